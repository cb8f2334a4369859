#!/bin/bash
port=41300
for buf in 10 64; do
 for to in 0 1000; do
  for load in "5000 1000" "10000 10000" "10000 0" "100000 20000" "100000 0" "500000 0"; do
    set -- $load; port=$((port+1))
    res=$(timeout 90 node pcap-test.cjs $buf $to $1 $2 $port 2>&1 | tr '\n' ' '); rc=$?
    echo "buf=${buf}MB timeout=$to count=$1 pps=$2 res=$res"
  done
 done
done
