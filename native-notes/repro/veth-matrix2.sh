#!/bin/bash
export SENDER=2
port=46100
for buf in 64 8; do
  for load in "800000 100000" "1600000 200000" "2400000 0"; do
    set -- $load
    port=$((port+1)); timeout 90 node ours.mjs $1 $2 $port $buf 0
    port=$((port+1)); timeout 90 ./tcpdump-run.sh $1 $2 $port $((buf*1024))
    port=$((port+1)); timeout 90 node pcap-veth.cjs $1 $2 $port $buf 1000
  done
done
