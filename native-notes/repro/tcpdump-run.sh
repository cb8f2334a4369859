#!/bin/bash
# tcpdump-run.sh COUNT PPS PORT BUFKIB
count=$1; pps=$2; port=$3; bufk=${4:-65536}
tcpdump -i twbh -n -p -w /dev/null -B $bufk "udp and dst port $port" 2>/tmp/capeval/td.err &
tpid=$!
sleep 1
if [ "$SENDER" = 2 ]; then snd=$(/tmp/capeval/send2.sh $count $pps $port); else snd=$(ip netns exec twbench /tmp/capeval/tools/udpsend 10.77.1.253 $port $count $pps 64 20 10.77.1.254); fi
sleep 1.5
cpu=$(awk "{print (\$14+\$15)*10}" /proc/$tpid/stat); kill -INT $tpid; wait $tpid
echo "{\"tool\":\"tcpdump\",\"count\":$count,\"pps\":$pps,\"bufKiB\":$bufk,\"cpuMs\":$cpu,\"sender\":\"$snd\",\"tcpdump\":\"$(grep packets /tmp/capeval/td.err | tr '\n' ';')\"}"
