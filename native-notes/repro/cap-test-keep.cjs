// node cap-test.cjs BUFMB COUNT PPS PORT
const { Cap } = require('cap');
const { spawn } = require('child_process');
const [bufMB, count, pps, port] = process.argv.slice(2).map(Number);
const c = new Cap();
const buffer = Buffer.alloc(65535);
const lt = c.open('lo', `udp dst port ${port}`, bufMB * 1024 * 1024, buffer);
let n = 0;
c.on('packet', (nbytes, trunc) => { n++; if (buffer[12] === 0x99) n += 0; if (n % 1000 === 0) process.stderr.write('n=' + n + ' '); });
const t0 = Date.now();
const s = spawn('/tmp/capeval/tools/udpsend', ['127.0.0.1', String(port), String(count), String(pps), '64', '20'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
s.stdout.on('data', d => out += d);
s.on('exit', () => {
  setTimeout(() => {
    process.stderr.write('before-close captured=' + n + '\n'); c.close(); process.stderr.write('after-close\n');
    console.log(JSON.stringify({ lib: 'cap', linktype: lt, bufMB, count, pps, sender: out.trim(), captured: n, ms: Date.now() - t0 }));
    process.exit(0);
  }, 1500);
});
