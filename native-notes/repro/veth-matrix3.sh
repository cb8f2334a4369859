#!/bin/bash
# A: sink work sweep (single sender, ~100 kpps target, 8 s), ours only, ring 64 MiB
port=47100
for w in 1000 2000 5000 10000 20000; do
  port=$((port+1)); timeout 90 node ours.mjs 800000 100000 $port 64 $w
done
# B: capture pinned to cpu0 next to a sender, two senders at max; ring 8 MiB and 2 MiB
export SENDER=2
for buf in 8 2; do
  port=$((port+1)); timeout 90 taskset -c 0 node ours.mjs 2400000 0 $port $buf 0
  port=$((port+1)); timeout 90 taskset -c 0 ./tcpdump-run.sh 2400000 0 $port $((buf*1024))
  port=$((port+1)); timeout 90 taskset -c 0 node pcap-veth.cjs 2400000 0 $port $buf 1000
done
