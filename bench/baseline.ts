// The bare baseline: a node:http server answering every request of one path (the request body
// drained) with the answer that path's baseline gives (bench/paths.ts): the same status, a body of
// the same kind, a random id, no storage. Crumb's rates are read against it.
//   node dist/bench/baseline.js PATH
import { createServer } from 'node:http';
import { pathNamed } from './paths.js';

const path = pathNamed(process.argv[2] ?? 'click');

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const answer = path.baseline();
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body ?? undefined);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
