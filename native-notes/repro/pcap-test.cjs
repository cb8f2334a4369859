// node pcap-test.cjs BUFMB TIMEOUTMS COUNT PPS PORT
const pcap = require('pcap');
const { spawn } = require('child_process');
const [bufMB, timeoutMs, count, pps, port] = process.argv.slice(2).map(Number);
const session = pcap.createSession('lo', { filter: `udp dst port ${port}`, buffer_size: bufMB * 1024 * 1024, buffer_timeout: timeoutMs });
let n = 0;
session.on('packet', (raw) => { n++; });
const t0 = Date.now();
const s = spawn('/tmp/capeval/tools/udpsend', ['127.0.0.1', String(port), String(count), String(pps), '64', '20'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
s.stdout.on('data', d => out += d);
s.on('exit', () => {
  setTimeout(() => {
    const st = session.stats();
    session.close();
    console.log(JSON.stringify({ lib: 'pcap', linktype: session.link_type, bufMB, timeoutMs, count, pps, sender: out.trim(), captured: n, stats: st, ms: Date.now() - t0 }));
    // do NOT process.exit: check whether it exits by itself
    const hard = setTimeout(() => { console.log('DID-NOT-EXIT-AFTER-CLOSE'); process.exit(3); }, 2000); hard.unref();
  }, 2500);
});
