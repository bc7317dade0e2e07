// The app's request handler: replace this file, and after restartd's notification the running
// server answers with the new code.
export default function handle(request, response) {
  response.setHeader('content-type', 'text/plain');
  response.end('hello from v1\n');
}
