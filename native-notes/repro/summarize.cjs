const lines=require("fs").readFileSync(process.argv[2],"utf8").trim().split("\n").map(JSON.parse);
for(const r of lines){const sent=+/sent=(\d+)/.exec(r.sender)[1];const rate=+/rate=(\d+)/.exec(r.sender)[1];
let got,drop,extra="";
if(r.tool==="ours"){got=r.stats.packetsDelivered;drop=r.stats.dropped+"+q"+r.stats.queueDropped;extra="cpu "+r.cpuMs+"ms recv "+r.stats.received+(r.workNs?" work "+r.workNs+"ns":"")}
else if(r.tool==="pcap"){got=r.sink;drop=r.stats.ps_drop;extra="cpu "+r.cpuMs+"ms recv "+r.stats.ps_recv}
else {got=+/(\d+) packets captured/.exec(r.tcpdump)[1];drop=+/(\d+) packets dropped by kernel/.exec(r.tcpdump)[1];extra="cpu "+r.cpuMs+"ms recv "+/(\d+) packets received/.exec(r.tcpdump)[1]}
console.log([r.tool.padEnd(8),"ring",String(r.bufMB??r.bufKiB/1024).padStart(3)+"MiB","target",String(r.pps).padStart(6),"actual",String(rate).padStart(6),"sent",String(sent).padStart(7),"got",String(got).padStart(7),"drop",String(drop).padStart(9),extra].join(" "))}
