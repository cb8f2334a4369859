#!/bin/bash
ip link del twbh 2>/dev/null; ip netns del twbench 2>/dev/null; true
