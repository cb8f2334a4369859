// node pcap-veth.cjs COUNT PPS PORT BUFMB TIMEOUTMS
const pcap = require('pcap');
const { spawn } = require('child_process');
const [count, pps, port, bufMB, to] = process.argv.slice(2).map(Number);
const session = pcap.createSession('twbh', { filter: `udp and dst port ${port}`, buffer_size: bufMB << 20, buffer_timeout: to, promiscuous: false });
let n = 0; session.on('packet', () => { n++; });
const cpu0 = process.cpuUsage();
const s = spawn(process.env.SENDER === '2' ? '/tmp/capeval/send2.sh' : 'ip', process.env.SENDER === '2' ? [String(count), String(pps), String(port)] : ['netns', 'exec', 'twbench', '/tmp/capeval/tools/udpsend', '10.77.1.253', String(port), String(count), String(pps), '64', '20', '10.77.1.254'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = ''; s.stdout.on('data', d => out += d);
s.on('exit', () => setTimeout(() => { const st = session.stats(); session.close(); const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ tool: 'pcap', count, pps, bufMB, to, sender: out.trim(), sink: n, stats: st, cpuMs: Math.round((cpu.user + cpu.system) / 1000) })); process.exit(0); }, 1500));
