// The baseline: a bare node:http server answering every request (body drained) with the same 302 a
// tracking link gets, carrying a random id, with no storage. Crumb's rates are read against it.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const id = randomBytes(24).toString('base64url');
    res.writeHead(302, { Location: `https://lp.example.com/quote?reqid=${id}&aff=67890&sub=bench`, 'Cache-Control': 'no-store' });
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
