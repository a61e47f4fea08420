/**
 * `/play`: the web SQL page ClickHouse users expect at that path. Self-contained
 * (no CDN, no fonts, no build step) so it works with nothing beyond loopback.
 * It sends the query the way any client does (POST /, Basic auth,
 * default_format=JSONCompact); Stop aborts the request, and the server stops a
 * query whose client went away. The pipeline console is the richer page.
 */
export const PLAY_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ClickHouse SQL · chdb-server</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; padding: 1rem; display: grid; gap: .6rem; }
  header { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 1.1rem; margin: 0 1rem 0 0; }
  textarea { width: 100%; min-height: 9rem; font: 14px ui-monospace, monospace; box-sizing: border-box; }
  input { width: 9rem; }
  #status { font-size: .9rem; opacity: .8; }
  #error { white-space: pre-wrap; color: #c0392b; font: 13px ui-monospace, monospace; }
  table { border-collapse: collapse; font: 13px ui-monospace, monospace; }
  th, td { border: 1px solid #8884; padding: .2rem .5rem; text-align: left; vertical-align: top; }
  th { position: sticky; top: 0; background: Canvas; }
  .wrap { overflow: auto; max-height: 70vh; }
</style>
</head>
<body>
<header>
  <h1>ClickHouse SQL</h1>
  <label>user <input id="user" autocomplete="username" value="analyst"></label>
  <label>password <input id="password" type="password" autocomplete="current-password"></label>
  <button id="run" title="Ctrl+Enter">Run</button>
  <button id="stop" disabled>Stop</button>
  <span id="status"></span>
</header>
<textarea id="sql" spellcheck="false">SELECT version(), now(), currentUser()</textarea>
<div id="error" role="alert"></div>
<div class="wrap"><table id="result"></table></div>
<script>
const $ = (id) => document.getElementById(id);
const saved = JSON.parse(sessionStorage.getItem('play') || '{}');
if (saved.sql) $('sql').value = saved.sql;
if (saved.user) $('user').value = saved.user;
let controller;
function cell(tag, text) { const el = document.createElement(tag); el.textContent = text; return el; }
function show(result) {
  const table = $('result'); table.replaceChildren();
  const head = document.createElement('tr');
  for (const m of result.meta) head.append(cell('th', m.name + ' ' + m.type));
  table.append(head);
  for (const row of result.data) {
    const tr = document.createElement('tr');
    for (const v of row) tr.append(cell('td', v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v)));
    table.append(tr);
  }
}
async function run() {
  const sql = $('sql').value;
  sessionStorage.setItem('play', JSON.stringify({ sql, user: $('user').value }));
  controller = new AbortController();
  $('run').disabled = true; $('stop').disabled = false; $('error').textContent = ''; $('status').textContent = 'running…';
  const started = performance.now();
  try {
    const res = await fetch('/?default_format=JSONCompact&result_overflow_mode=throw', {
      method: 'POST', body: sql, signal: controller.signal,
      headers: { Authorization: 'Basic ' + btoa(unescape(encodeURIComponent($('user').value + ':' + $('password').value))) },
    });
    const text = await res.text();
    const ms = Math.round(performance.now() - started);
    if (!res.ok) { $('error').textContent = text; $('status').textContent = 'failed (' + res.status + ') in ' + ms + ' ms'; return; }
    if (text.trim() === '') { $('result').replaceChildren(); $('status').textContent = 'ok in ' + ms + ' ms'; return; }
    let result;
    try { result = JSON.parse(text); } catch { $('error').textContent = text; $('status').textContent = 'not JSON (a FORMAT clause?)'; return; }
    show(result);
    $('status').textContent = result.rows + ' rows in ' + ms + ' ms';
  } catch (e) {
    $('status').textContent = e.name === 'AbortError' ? 'stopped' : 'failed';
    if (e.name !== 'AbortError') $('error').textContent = String(e);
  } finally {
    $('run').disabled = false; $('stop').disabled = true;
  }
}
$('run').onclick = run;
$('stop').onclick = () => controller && controller.abort();
$('sql').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); } });
</script>
</body>
</html>
`;
