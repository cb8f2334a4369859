#!/bin/bash
# Runs cap-test.cjs over buffer sizes x loads; records exit status and stderr tail.
port=41100
for rep in 1 2; do
for buf in 1 10 32 64; do
  for load in "5000 1000" "10000 10000" "10000 0" "100000 20000" "100000 0" "500000 0"; do
    set -- $load; port=$((port+1))
    err=$(mktemp)
    res=$(timeout 90 node cap-test.cjs $buf $1 $2 $port 2>$err); rc=$?
    echo "rep=$rep buf=${buf}MB count=$1 pps=$2 rc=$rc res=$res err=$(tr '\n' ' ' < $err | cut -c1-200)"
    rm -f $err
  done
done
done
