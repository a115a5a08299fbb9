// Bounds a server the benchmark starts, loaded before it (`node --import`): it stops when the harness
// that started it is gone (its parent changes), and after CRUMB_BENCH_LIFETIME seconds whatever
// happens, with SIGTERM (a graceful stop) and then SIGKILL.
const parent = process.ppid;
const lifetime = Number(process.env.CRUMB_BENCH_LIFETIME ?? 3600);
const started = Date.now();

let stopping = false;
function stop(why: string) {
  if (stopping) return;
  stopping = true;
  console.error(`benchmark server ${process.pid}: ${why}, stopping`);
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 15_000).unref();
}

setInterval(() => {
  if (process.ppid !== parent) stop('the harness that started it is gone');
  else if (Date.now() - started > lifetime * 1000) stop(`it has run for its ${lifetime} s`);
}, 1000).unref();
