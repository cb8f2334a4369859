// node ours-lo.mjs BUFMB COUNT PPS PORT  (same loads as cap-test/pcap-test on lo)
import { openLive } from '/tmp/twbuild/capture/live.js';
import { spawn } from 'node:child_process';
const [bufMB, count, pps, port] = process.argv.slice(2).map(Number);
const cap = openLive({ iface: 'lo', filter: `udp dst port ${port}`, promisc: false, bufferSize: bufMB * 1048576, immediate: process.env.IMMEDIATE === '1' });
let n = 0;
cap.start({ packet() { n++; } });
const cpu0 = process.cpuUsage();
const s = spawn('/tmp/capeval/tools/udpsend', ['127.0.0.1', String(port), String(count), String(pps), '64', '20'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
s.stdout.on('data', (d) => (out += d));
s.on('exit', () => setTimeout(async () => {
  await cap.close();
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ lib: 'ours', bufMB, count, pps, sender: out.trim(), captured: n, stats: cap.stats(), cpuMs: Math.round((cpu.user + cpu.system) / 1000) }));
}, 1500));
