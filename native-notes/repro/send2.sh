#!/bin/bash
# send2.sh COUNT PPS PORT : two bounded sendmmsg senders in the netns, pinned to cpu0 and cpu1, each half the count/rate
count=$1; pps=$2; port=$3; half=$((count/2)); hp=$(( pps/2 ))
ip netns exec twbench taskset -c 0 /tmp/capeval/tools/udpsend2 10.77.1.253 $port $half $hp 64 30 10.77.1.254 32 > /tmp/capeval/s0.out &
p0=$!
ip netns exec twbench taskset -c 1 /tmp/capeval/tools/udpsend2 10.77.1.253 $port $half $hp 64 30 10.77.1.254 32 > /tmp/capeval/s1.out &
p1=$!
wait $p0 $p1
awk '{for(i=1;i<=NF;i++){split($i,kv,"="); if(kv[1]=="sent")s+=kv[2]; if(kv[1]=="elapsed"&&kv[2]>e)e=kv[2]}} END{printf "sent=%d elapsed=%.3f rate=%.0f\n", s, e, s/e}' /tmp/capeval/s0.out /tmp/capeval/s1.out
