// Parses LogQL queries with Grafana's own LogQL grammar (@grafana/lezer-logql, the parser behind
// the Loki query editor) and reports, for each query, its syntax errors and its syntax tree.
//
//   node parse.mjs QUERIES.json OUT.json
//
// QUERIES.json is an array of {"name": ..., "query": ...}. OUT.json receives the same array with,
// for each query, "errors" (the error nodes of the tree: from, to and the text around them; empty
// when the query parses) and "tree" (every node as {"type", "from", "to", "children"}, leaves with
// their "text"). The script exits 0 when it could parse every query, errors or not: the caller
// decides; 2 on bad usage or unreadable input.
import { readFileSync, writeFileSync } from 'node:fs';
import { parser } from '@grafana/lezer-logql';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node parse.mjs QUERIES.json OUT.json');
  process.exit(2);
}

let queries;
try {
  queries = JSON.parse(readFileSync(input, 'utf8'));
} catch (e) {
  console.error(`cannot read ${input}: ${e.message}`);
  process.exit(2);
}

/** The node under the cursor and its subtree, as plain JSON. */
function toJson(cursor, query, errors) {
  const node = {
    type: cursor.type.isError ? '⚠' : cursor.type.name,
    from: cursor.from,
    to: cursor.to,
  };
  if (cursor.type.isError) {
    errors.push({
      from: cursor.from,
      to: cursor.to,
      near: query.slice(Math.max(0, cursor.from - 20), Math.min(query.length, cursor.to + 20)),
    });
  }
  if (cursor.firstChild()) {
    node.children = [];
    do {
      node.children.push(toJson(cursor, query, errors));
    } while (cursor.nextSibling());
    cursor.parent();
  } else {
    node.text = query.slice(cursor.from, cursor.to);
  }
  return node;
}

const results = queries.map(({ name, query }) => {
  const errors = [];
  const tree = toJson(parser.parse(query).cursor(), query, errors);
  return { name, query, errors, tree };
});

writeFileSync(output, JSON.stringify(results, null, 2) + '\n');
for (const { name, errors } of results) {
  console.log(`${errors.length === 0 ? 'ok   ' : 'ERROR'} ${name}${errors.length === 0 ? '' : ': ' + JSON.stringify(errors)}`);
}
