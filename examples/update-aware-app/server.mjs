// An HTTP server that picks up new code without restarting: when restartd says its files changed,
// it re-imports its request handler and swaps it in. Same PID, same listening socket, no dropped
// connections. Run: PORT=8080 node server.mjs (as root it registers in /run/restartd/aware.d).
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { registerUpdateAware } from 'restartd/client';

const handlerPath = process.env.HANDLER ?? new URL('./handler.mjs', import.meta.url).pathname;
let generation = 0;

// A query string makes Node load the file afresh instead of returning the cached module.
async function loadHandler() {
  generation += 1;
  const module = await import(`${pathToFileURL(handlerPath).href}?generation=${generation}`);
  return module.default;
}

let handle = await loadHandler();
const server = createServer((request, response) => handle(request, response));
await new Promise((resolve) => server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1', resolve));

await registerUpdateAware({
  name: 'update-aware-app',
  ...(process.env.RESTARTD_AWARE_DIR ? { dir: process.env.RESTARTD_AWARE_DIR } : {}),
  paths: process.env.WATCH_PATHS ? process.env.WATCH_PATHS.split(':') : undefined,
  async onUpdate({ files }) {
    try {
      handle = await loadHandler();
      return 'handled';
    } catch (error) {
      console.error(`update-aware-app: cannot load the new handler (${error.message}); asking for a restart`);
      return 'restart-me';
    }
  },
});
console.log(JSON.stringify({ ready: true, pid: process.pid, port: server.address().port }));
