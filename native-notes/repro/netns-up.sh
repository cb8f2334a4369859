#!/bin/bash
# bench namespace: twbench, veth twbh (host 10.77.1.253/30) <-> twbn (ns 10.77.1.254/30)
set -e
ip netns add twbench
ip link add twbh type veth peer name twbn
ip link set twbn netns twbench
ip addr add 10.77.1.253/30 dev twbh
ip link set twbh up
ip -n twbench addr add 10.77.1.254/30 dev twbn
ip -n twbench link set twbn up
ip -n twbench link set lo up
ip neigh replace 10.77.1.254 lladdr $(ip netns exec twbench cat /sys/class/net/twbn/address) dev twbh nud permanent
ip -n twbench neigh replace 10.77.1.253 lladdr $(cat /sys/class/net/twbh/address) dev twbn nud permanent
