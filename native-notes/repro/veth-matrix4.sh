#!/bin/bash
export SENDER=2
port=47400
for rep in 1 2; do
  port=$((port+1)); timeout 90 node ours.mjs 2400000 0 $port 64 0
  port=$((port+1)); timeout 90 ./tcpdump-run.sh 2400000 0 $port 65536
  port=$((port+1)); timeout 90 node pcap-veth.cjs 2400000 0 $port 64 1000
done
