// Which GPIO pins each node of a decompiled device tree claims: through its pinctrl-N groups
// (BCM283x groups carry `brcm,pins`) or a `*-gpios` property on a GPIO controller. overlay.test.sh
// uses it to show that nothing else enabled in the merged tree takes the sound card's pins
// (GPIO16, 18-21).
//   node overlay-pins.mjs MERGED.dts PIN...   prints "PATH VIA PIN" per enabled claim; exit 0
// Written by hand: dtc's text output is regular enough, and no npm package reads it.
import { readFileSync } from 'node:fs';

const [file, ...pinArgs] = process.argv.slice(2);
if (!file || pinArgs.length === 0) {
  console.error('usage: node overlay-pins.mjs MERGED.dts PIN...');
  process.exit(2);
}
const wanted = new Set(pinArgs.map(Number));
const cells = (v) => v.trim().split(/\s+/).filter(Boolean).map((x) => Number(x));

const stack = []; // open nodes: { path, status }
const byPhandle = new Map(); // phandle -> path
const groupPins = new Map(); // path -> pins
const claims = []; // { node, phandles }: pinctrl-N
const gpioRefs = []; // { node, prop, cells }: gpios / *-gpios
const controllers = new Map(); // path -> #gpio-cells
const nodes = new Map(); // path -> node
for (const raw of readFileSync(file, 'utf8').split('\n')) {
  const line = raw.trim();
  let m;
  if ((m = /^(?:[\w-]+:\s*)?([^\s=]+) \{$/.exec(line))) {
    const parent = stack.at(-1);
    const path = parent ? (parent.path === '/' ? '' : parent.path) + '/' + m[1] : '/';
    const node = { path, status: 'okay', parent };
    stack.push(node);
    nodes.set(path, node);
  } else if (line === '};') {
    stack.pop();
  } else if (stack.length > 0) {
    const node = stack.at(-1);
    if ((m = /^status = "([^"]*)";/.exec(line))) node.status = m[1];
    else if ((m = /^phandle = <([^>]*)>;/.exec(line))) byPhandle.set(cells(m[1])[0], node.path);
    else if ((m = /^brcm,pins = <([^>]*)>;/.exec(line))) groupPins.set(node.path, cells(m[1]));
    else if ((m = /^pinctrl-\d+ = <([^>]*)>;/.exec(line))) claims.push({ node, phandles: cells(m[1]) });
    else if ((m = /^#gpio-cells = <([^>]*)>;/.exec(line))) controllers.set(node.path, cells(m[1])[0]);
    else if ((m = /^((?:[\w,-]+-)?gpios) = <([^>]*)>;/.exec(line))) gpioRefs.push({ node, prop: m[1], cells: cells(m[2]) });
  }
}
// A node counts only if it and all its ancestors are enabled (a disabled parent disables children).
const enabled = (node) => {
  for (let n = node; n; n = n.parent) if (n.status !== 'okay' && n.status !== 'ok') return false;
  return true;
};
for (const { node, phandles } of claims) {
  if (!enabled(node)) continue;
  for (const ph of phandles) {
    const group = byPhandle.get(ph);
    for (const pin of groupPins.get(group) ?? []) if (wanted.has(pin)) console.log(`${node.path} ${group} ${pin}`);
  }
}
// <&controller pin flags ...>, possibly several; only the BCM283x pin controller's pins count.
for (const { node, prop, cells: c } of gpioRefs) {
  if (!enabled(node)) continue;
  for (let i = 0; i < c.length; ) {
    const ctrl = byPhandle.get(c[i]);
    const n = controllers.get(ctrl);
    if (n === undefined) break; // not a GPIO controller we know: stop rather than misread
    if (/gpio@7e200000$/.test(ctrl) && wanted.has(c[i + 1])) console.log(`${node.path} ${prop} ${c[i + 1]}`);
    i += 1 + n;
  }
}
