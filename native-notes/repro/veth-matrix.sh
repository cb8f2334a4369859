#!/bin/bash
port=45100
for rep in 1 2; do
for buf in 64 2; do
  for load in "75000 25000" "150000 50000" "300000 100000" "500000 0"; do
    set -- $load
    port=$((port+1)); timeout 60 node ours.mjs $1 $2 $port $buf 0
    port=$((port+1)); timeout 60 ./tcpdump-run.sh $1 $2 $port $((buf*1024))
    port=$((port+1)); timeout 60 node pcap-veth.cjs $1 $2 $port $buf 1000
  done
done
done
