// Test-only harness: parse Mermaid diagram sources with the REAL Mermaid 11
// under Node (jsdom provides the DOM that Mermaid's DOMPurify needs).
//
// stdin:  a JSON array of diagram source strings.
// stdout: a JSON array, one entry per input, in order:
//   {"ok": true,  "type": "flowchart-v2", "nodes": N, "edges": M,
//    "vertices": [{"id": ..., "label": ..., "raw_label": ..., "html_label": ...}],
//    "edge_list": [{"start": ..., "end": ..., "label": ..., "raw_label": ...}],
//    "error": null}
//   {"ok": false, "type": null, "nodes": 0, "edges": 0, "vertices": [],
//    "edge_list": [], "error": "message"}
// Parse failures are data: exit 0. Exit non-zero only if the harness itself
// fails (bad input, Mermaid or jsdom cannot be loaded, ...).
//
// For flowcharts, "nodes"/"edges" count the vertices and edges in Mermaid's
// flowchart db. Vertex labels are reported three ways:
//   raw_label  - exactly what the db holds: Mermaid's pre-parser replaces
//                `#NNN;` / `#name;` entity codes with private placeholder
//                characters, and labels go through DOMPurify.
//   html_label - raw_label after Mermaid's own `decodeEntities` (utils), i.e.
//                the placeholders turned back into `&#NNN;` / `&name;`, which
//                is the HTML Mermaid hands to the browser.
//   label      - html_label with HTML character references resolved (as a
//                browser would display them); markup tags are left as text.
// Edge labels in edge_list are decoded the same way as vertex labels.
// For other diagram types, nodes/edges are 0 and vertices/edge_list are empty.

import { JSDOM } from "jsdom";

// Keep stdout for the JSON result only: anything Mermaid logs goes to stderr.
for (const level of ["log", "info", "warn", "debug", "trace"]) {
  console[level] = (...args) => console.error(...args);
}

const dom = new JSDOM("<!DOCTYPE html><html><head></head><body></body></html>", {
  pretendToBeVisual: true,
});
const { window } = dom;

// Mermaid (and DOMPurify, which it imports) look for browser globals at
// import time, so they must exist before the dynamic import below.
const browserGlobals = [
  "window",
  "document",
  "navigator",
  "DOMParser",
  "XMLSerializer",
  "Node",
  "Element",
  "HTMLElement",
  "SVGElement",
  "DocumentFragment",
  "HTMLTemplateElement",
  "NodeFilter",
  "NamedNodeMap",
  "MutationObserver",
  "getComputedStyle",
];
for (const name of browserGlobals) {
  const value = name === "window" ? window : window[name];
  if (value === undefined) continue;
  Object.defineProperty(globalThis, name, {
    value: typeof value === "function" && name === "getComputedStyle" ? value.bind(window) : value,
    configurable: true,
    writable: true,
  });
}

const { default: mermaid } = await import("mermaid");

mermaid.initialize({
  startOnLoad: false,
  logLevel: "fatal",
  // maxEdges / maxTextSize are "secure" keys: only initialize() can raise them.
  maxEdges: 100000,
  maxTextSize: 10000000,
});

// Same replacements as Mermaid's utils `decodeEntities` (not exported from
// the package root): placeholders -> HTML character references.
function mermaidDecodeEntities(text) {
  return text.replace(/ﬂ°°/g, "&#").replace(/ﬂ°/g, "&").replace(/¶ß/g, ";");
}

// Resolve HTML character references without interpreting tags: a textarea's
// content is RCDATA, so `<b>` stays literal text while `&#60;` becomes `<`.
const decoder = window.document.createElement("textarea");
function htmlToText(html) {
  decoder.innerHTML = html;
  return decoder.value;
}

function decodeLabel(raw) {
  const html = mermaidDecodeEntities(raw ?? "");
  return { label: htmlToText(html), raw_label: raw ?? "", html_label: html };
}

function failure(type, error) {
  return { ok: false, type, nodes: 0, edges: 0, vertices: [], edge_list: [], error };
}

function errorMessage(err) {
  if (err === null || err === undefined) return String(err);
  if (typeof err === "string") return err;
  if (typeof err.message === "string" && err.message) return err.message;
  if (typeof err.str === "string") return err.str;
  return String(err);
}

async function checkOne(text) {
  if (typeof text !== "string") {
    return failure(null, "input is not a string");
  }
  let type;
  try {
    const result = await mermaid.parse(text, { suppressErrors: false });
    type = result.diagramType;
  } catch (err) {
    return failure(null, errorMessage(err));
  }
  let nodes = 0;
  let edges = 0;
  const vertices = [];
  const edgeList = [];
  if (typeof type === "string" && type.startsWith("flowchart")) {
    try {
      const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
      const vertexMap = diagram.db.getVertices();
      const dbEdges = diagram.db.getEdges();
      nodes = vertexMap.size;
      edges = dbEdges.length;
      for (const vertex of vertexMap.values()) {
        vertices.push({ id: vertex.id, ...decodeLabel(vertex.text) });
      }
      for (const edge of dbEdges) {
        edgeList.push({ start: edge.start, end: edge.end, ...decodeLabel(edge.text) });
      }
    } catch (err) {
      // mermaid.parse accepted it but the second parse did not: report it.
      return failure(type, "graph extraction failed: " + errorMessage(err));
    }
  }
  return { ok: true, type, nodes, edges, vertices, edge_list: edgeList, error: null };
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

const input = JSON.parse(await readStdin());
if (!Array.isArray(input)) {
  throw new TypeError("stdin must be a JSON array of diagram source strings");
}
const results = [];
for (const text of input) {
  results.push(await checkOne(text));
}
process.stdout.write(JSON.stringify(results) + "\n", () => {
  window.close();
  process.exit(0);
});
