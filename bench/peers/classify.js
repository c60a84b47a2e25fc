// Reads {"id","text",...} JSON lines on stdin and writes one line per input
// with the peer's decision, the way `earshot check --jsonl` does, so the
// three are timed on the same work: parse JSON, score, print JSON.
//   node classify.js vader   flag when VADER compound <= -0.05
//   node classify.js afinn   flag when the AFINN-165 score < 0
'use strict';
const readline = require('readline');
const which = process.argv[2];
let score;
if (which === 'vader') {
  const vader = require('vader-sentiment');
  score = (t) => {
    const c = vader.SentimentIntensityAnalyzer.polarity_scores(t).compound;
    return [c <= -0.05, c];
  };
} else if (which === 'afinn') {
  const Sentiment = require('sentiment');
  const s = new Sentiment();
  score = (t) => { const r = s.analyze(t).score; return [r < 0, r]; };
} else {
  console.error('usage: node classify.js vader|afinn < lines.jsonl');
  process.exit(2);
}
const out = [];
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (!line) return;
  const o = JSON.parse(line);
  const [flag, sc] = score(o.text || '');
  out.push(JSON.stringify({ id: o.id, flag, score: sc }));
  if (out.length >= 4096) { process.stdout.write(out.join('\n') + '\n'); out.length = 0; }
});
rl.on('close', () => { if (out.length) process.stdout.write(out.join('\n') + '\n'); });
