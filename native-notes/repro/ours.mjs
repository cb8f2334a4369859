// node ours.mjs COUNT PPS PORT [bufMB] [workNs]
import { openLive } from '/tmp/twbuild/capture/live.js';
import { spawn } from 'node:child_process';
const [count, pps, port, bufMB = 64, workNs = 0] = process.argv.slice(2).map(Number);
const cap = openLive({ iface: 'twbh', filter: `udp and dst port ${port}`, promisc: false, bufferSize: bufMB * 1048576 });
let n = 0, bytes = 0;
const sink = { packet(lt, s, ns, buf, off, caplen, wirelen) {
  n++; bytes += buf[off + 23]; // touch the IP protocol byte
  if (workNs > 0) { const end = process.hrtime.bigint() + BigInt(workNs); while (process.hrtime.bigint() < end); }
} };
cap.start(sink, (e) => console.error('capture error', e.message));
const cpu0 = process.cpuUsage();
const s = spawn(process.env.SENDER === '2' ? '/tmp/capeval/send2.sh' : 'ip', process.env.SENDER === '2' ? [String(count), String(pps), String(port)] : ['netns', 'exec', 'twbench', '/tmp/capeval/tools/udpsend', '10.77.1.253', String(port), String(count), String(pps), '64', '20', '10.77.1.254'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
s.stdout.on('data', (d) => (out += d));
s.on('exit', () => setTimeout(async () => {
  await cap.close();
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ tool: 'ours', count, pps, bufMB, workNs, sender: out.trim(), sink: n, stats: cap.stats(), cpuMs: Math.round((cpu.user + cpu.system) / 1000) }));
}, 1500));
