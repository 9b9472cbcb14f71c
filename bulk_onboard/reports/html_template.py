"""report.html's Jinja2 template, CSS included: the page must open with no network and no files.

Autoescaping is on, so every value from a run folder is text in the page (a mailbox named
`<script>` stays text); only the chart, SVG whose every text charts.py escaped, is marked safe.
The Content-Security-Policy forbids every fetch and every script: the page needs neither.
"""

from typing import Final

TEMPLATE: Final = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
  content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="referrer" content="no-referrer">
<title>{{ title }}</title>
<style>
:root { color-scheme: light; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #57606a;
  --line: #d0d7de; --panel: #f6f8fa; --ink: #1f2328; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.5rem; margin: 0 0 12px; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 32px 0 8px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 20px 0 4px; display: flex; flex-wrap: wrap; gap: 4px 10px;
  align-items: baseline; }
.kicker { margin: 0; color: var(--muted); font-size: .85rem; text-transform: uppercase;
  letter-spacing: .05em; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
  gap: 6px 16px; margin: 0; }
.facts dt { color: var(--muted); font-size: .8rem; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.facts div:last-child { grid-column: 1 / -1; }  /* the exit code, with its meaning */
.counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
  gap: 10px; margin-top: 20px; }
.count { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px;
  background: var(--panel); }
.count .n { display: block; font-size: 1.7rem; font-weight: 600;
  font-variant-numeric: tabular-nums; }
.count .label { color: var(--muted); }
.count.good .n { color: var(--ok); }
.count.bad .n { color: var(--bad); }
.count.warn .n { color: var(--warn); }
.note, .more { color: var(--muted); }
.dry-run { margin: 16px 0 0; padding: 8px 12px; border: 2px solid var(--warn);
  border-radius: 8px; background: #fff8c5; }
.more { font-style: italic; }
.hint { margin: 0 0 8px; padding: 6px 10px; border-left: 3px solid var(--warn);
  background: #fff8c5; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
thead th { background: var(--panel); font-weight: 600; white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.stats { width: auto; }
.scores { display: flex; flex-wrap: wrap; gap: 8px 32px; align-items: flex-start; }
.scores > * { flex: 1 1 300px; max-width: 540px; }
.chart { margin: 0; }
.chart svg { display: block; width: 100%; max-width: 540px; height: auto; }
.grid td.check, .grid th.check { text-align: center; white-space: nowrap; }
.grid td.check { font-size: 1rem; }
td.ok { color: var(--ok); background: #dafbe1; }
td.bad { color: var(--bad); background: #ffebe9; font-weight: 600; }
td.mixed { color: var(--warn); background: #fff8c5; font-weight: 600; }
td.unknown { color: var(--muted); }
.grid { width: auto; min-width: min(100%, 640px); }
.grid .check { min-width: 3.4rem; }
.domain { overflow-wrap: anywhere; }
.domain small { display: block; color: var(--muted); }
.rows { table-layout: fixed; }
.rows .row { width: 4.5em; }
.rows .email { width: 34%; }
.rows td { overflow-wrap: break-word; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .95em; }
.badge { border-radius: 10px; padding: 0 8px; background: var(--bad); color: #fff;
  font-size: .85rem; font-variant-numeric: tabular-nums; }
.codes { display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 0; margin: 0 0 8px;
  list-style: none; }
a { color: #0969da; }
.stage { color: var(--muted); font-size: .85rem; font-weight: normal; }
footer { margin-top: 40px; padding-top: 8px; border-top: 1px solid var(--line);
  color: var(--muted); font-size: .85rem; }
@media (max-width: 480px) {
  main { padding: 10px; }
  .count .n { font-size: 1.4rem; }
  th, td { padding: 3px 4px; }
  .rows .row { width: 3em; }
  .rows .email { width: 38%; }
}
</style>
</head>
<body>
{#- An email may break after its @ (<wbr>) before it breaks anywhere else. #}
{% macro email(text) %}{% set local, at, domain = text.partition("@") %}
{{- local }}{{ at }}{% if at %}<wbr>{% endif %}{{ domain }}{% endmacro %}
<main>
<header>
<p class="kicker">bulk-onboard {{ data.command }} report</p>
<h1>{{ input_name }}</h1>
<dl class="facts">
{% for label, value in facts %}
<div><dt>{{ label }}</dt><dd>{{ value }}</dd></div>
{% endfor %}
</dl>
{% if dry_run %}
<p class="dry-run" role="note"><strong>{{ dry_run }}</strong></p>
{% endif %}
</header>

<section class="counts" aria-label="Counts">
{% for key, label, value in data.counts %}
<div class="count {{ tones.get(key, '') if value else '' }}">
<span class="n" data-count="{{ key }}">{{ value | n }}</span><span class="label">{{ label }}</span>
</div>
{% endfor %}
</section>

<section id="scores">
<h2>Score distribution</h2>
{% if chart %}
<div class="scores">
<figure class="chart" role="img" aria-label="{{ chart_label }}">{{ chart }}</figure>
<div class="scroll"><table class="stats">
<thead><tr><th>score</th><th class="num">accounts</th><th class="num">mean</th>
<th class="num">median</th><th class="num">min</th><th class="num">max</th></tr></thead>
<tbody>
{% for s in data.scores %}
<tr><th scope="row">{{ s.label }}</th><td class="num">{{ s.count | n }}</td>
<td class="num">{{ "%.1f" | format(s.mean) }}</td><td class="num">{{ "%g" | format(s.median) }}</td>
<td class="num">{{ s.low }}</td><td class="num">{{ s.high }}</td></tr>
{% endfor %}
</tbody></table></div>
</div>
{% else %}
<p class="note">{{ no_scores }}</p>
{% endif %}
</section>

{% if data.command == "validate" %}
<section id="valid">
<h2>Valid rows</h2>
<p>{{ data.summary.get("valid", 0) | n }} rows would be submitted as they are: valid.csv lists
them, with the settings a preset or a default filled in.</p>
</section>
{% endif %}

{% if data.domains %}
<section id="domains">
<h2>Domain health</h2>
<p class="note">✓ every mailbox of the domain passes the check, ✗ none does, ✗ n/m only n of m
do, – MailReach did not say. Domains with a failed check come first.</p>
<div class="scroll"><table class="grid">
<thead><tr><th>domain</th>
{% for label in check_labels %}<th class="check">{{ label }}</th>{% endfor %}</tr></thead>
<tbody>
{% for d in data.domains %}
<tr><td class="domain">{{ d.domain }}
<small>{{ d.mailboxes | n }} mailbox{{ "es" if d.mailboxes != 1 else "" }}</small></td>
{% for c in d.checks %}
<td class="check {{ c.state }}" title="{{ c.passed }} pass, {{ c.failed }} fail">
{{- marks[c.state] }}
{%- if c.state == "mixed" %} {{ c.passed }}/{{ c.passed + c.failed }}{% endif -%}
</td>
{% endfor %}
</tr>
{% endfor %}
</tbody></table></div>
{% if data.domains_hidden %}
<p class="more">{{ data.domains_hidden | n }} more domains
{%- if data.domains_hidden_with_problems %} ({{ data.domains_hidden_with_problems | n }} with a
failed check){% else %}, all healthy{% endif %}: see succeeded.csv.</p>
{% endif %}
</section>
{% endif %}

<section id="failures">
<h2>Failures by error code</h2>
{% if data.failures | length > 1 %}
<ul class="codes">
{% for g in data.failures %}
<li><a href="#code-{{ loop.index }}"><code>{{ g.code }}</code></a> {{ g.count | n }}</li>
{% endfor %}
</ul>
{% endif %}
{% for g in data.failures %}
<h3 id="code-{{ loop.index }}"><code>{{ g.code }}</code><span class="badge">{{ g.count | n }}</span>
<span class="stage">{{ g.stages | sort | join(", ") }}</span></h3>
{% if g.hint %}<p class="hint">{{ g.hint }}</p>{% endif %}
<div class="scroll"><table class="rows">
<thead><tr><th class="num row">row</th><th class="email">email</th><th>message</th></tr></thead>
<tbody>
{% for r in g.rows %}
<tr><td class="num">{{ r.row }}</td><td>{{ email(r.email) }}</td><td>{{ r.message }}</td></tr>
{% endfor %}
</tbody></table></div>
{% if g.more %}
<p class="more">{{ g.more | n }} more rows with this code: see failed.csv.</p>
{% endif %}
{% else %}
<p class="note">No row failed.</p>
{% endfor %}
</section>

{% if data.unprocessed %}
<section id="unprocessed">
<h2>Unprocessed</h2>
<p class="note">These rows were never settled: unprocessed.csv lists them.</p>
<div class="scroll"><table class="stats">
<thead><tr><th>reason</th><th class="num">rows</th><th>meaning</th></tr></thead>
<tbody>
{% for reason, rows in data.unprocessed %}
<tr><td><code>{{ reason }}</code></td><td class="num">{{ rows | n }}</td>
<td>{{ reasons.get(reason, "") }}</td></tr>
{% endfor %}
</tbody></table></div>
</section>
{% endif %}

{% if data.command == "sync" or data.changes_total %}
<section id="changes">
<h2>Changes since the last sync</h2>
{% if data.changes_total %}
<p>{% for name, n in data.change_fields %}<code>{{ name }}</code> {{ n | n }}
{%- if not loop.last %} · {% endif %}{% endfor %}</p>
<div class="scroll"><table class="rows">
<thead><tr><th class="email">email</th><th>field</th><th>before</th><th>after</th></tr></thead>
<tbody>
{% for c in data.changes %}
<tr><td>{{ email(c.email) }}</td><td><code>{{ c.field }}</code></td>
<td>{{ c.before }}</td><td>{{ c.after }}</td></tr>
{% endfor %}
</tbody></table></div>
{% if data.changes_total > data.changes | length %}
<p class="more">{{ (data.changes_total - data.changes | length) | n }} more changes: see
changes.csv.</p>
{% endif %}
{% else %}
<p class="note">Nothing changed since the last sync.</p>
{% endif %}
</section>
{% endif %}

{% if data.skipped %}
<section id="skipped">
<h2>Skipped</h2>
<p class="note">Rows unchanged since the last sync cost no API call: skipped.csv lists them.</p>
<div class="scroll"><table class="stats">
<thead><tr><th>reason</th><th class="num">rows</th></tr></thead>
<tbody>
{% for reason, rows in data.skipped %}
<tr><td><code>{{ reason }}</code></td><td class="num">{{ rows | n }}</td></tr>
{% endfor %}
</tbody></table></div>
</section>
{% endif %}

<footer>
<p>Written by bulk-onboard {{ version }} from this run folder's summary.json and its CSV
reports ({{ files | join(", ") }}), which list every row; <code>bulk-onboard report RUN_DIR</code>
writes it again.</p>
</footer>
</main>
</body>
</html>
"""
