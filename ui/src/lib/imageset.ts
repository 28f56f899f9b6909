// The image set lives as YAML text (the source of truth, comments kept). The form reads and
// writes single paths through the `yaml` Document API, so editing a field never rewrites the
// user's formatting elsewhere, and a syntax error in the text never loses what was typed.
import { Document, isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from "yaml";

export type Path = (string | number)[];

export const STARTER = `kind: ImageSetConfiguration
apiVersion: mirror.openshift.io/v1alpha2
archiveSize: 4
storageConfig:
  local:
    path: ./metadata
mirror:
  additionalImages:
    - name: registry.access.redhat.com/ubi9/ubi-minimal:latest
`;

export type SyntaxProblem = { line: number; column: number; message: string };

export function parse(text: string): { doc: Document; problems: SyntaxProblem[] } {
  const doc = parseDocument(text, { keepSourceTokens: false, prettyErrors: true });
  const problems = doc.errors.map((e) => ({
    line: e.linePos?.[0].line ?? 1,
    column: e.linePos?.[0].col ?? 1,
    message: e.message.split("\n")[0],
  }));
  return { doc, problems };
}

export function getIn(doc: Document, path: Path): unknown {
  const v = doc.getIn(path, false);
  return v;
}

export function getString(doc: Document, path: Path): string {
  const v = getIn(doc, path);
  return v === undefined || v === null ? "" : String(v);
}

export function getBool(doc: Document, path: Path): boolean {
  return getIn(doc, path) === true;
}

/** Length of the sequence at `path` (0 when absent). */
export function seqLength(doc: Document, path: Path): number {
  const node = doc.getIn(path, true);
  return isSeq(node) ? node.items.length : 0;
}

/** Sets a value and returns the new text; empty strings and `false` remove optional keys. */
export function setIn(text: string, path: Path, value: string | number | boolean | null): string {
  const { doc } = parse(text);
  if (value === "" || value === null || value === false) {
    if (doc.hasIn(path)) doc.deleteIn(path);
    pruneEmpty(doc, path.slice(0, -1));
  } else {
    ensureContainers(doc, path);
    doc.setIn(path, value);
  }
  return doc.toString();
}

export function appendItem(text: string, path: Path, item: Record<string, unknown>): string {
  const { doc } = parse(text);
  const node = doc.getIn(path, true);
  if (isSeq(node)) {
    node.add(doc.createNode(item));
  } else {
    ensureContainers(doc, [...path, 0]);
    doc.setIn(path, doc.createNode([item]));
  }
  return doc.toString();
}

export function removeItem(text: string, path: Path, index: number): string {
  const { doc } = parse(text);
  doc.deleteIn([...path, index]);
  pruneEmpty(doc, path);
  return doc.toString();
}

/** Sets a comma-separated list (for example architectures) as a YAML sequence of strings. */
export function setList(text: string, path: Path, csv: string): string {
  const items = csv
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const { doc } = parse(text);
  if (items.length === 0) {
    if (doc.hasIn(path)) doc.deleteIn(path);
    pruneEmpty(doc, path.slice(0, -1));
  } else {
    ensureContainers(doc, path);
    doc.setIn(path, doc.createNode(items));
  }
  return doc.toString();
}

export function getList(doc: Document, path: Path): string {
  const node = doc.getIn(path, true);
  if (!isSeq(node)) return "";
  return node.items.map((i) => String((i as { value?: unknown }).value ?? i)).join(", ");
}

function ensureContainers(doc: Document, path: Path) {
  // doc.setIn creates missing maps, but not when the document is empty or a parent is a scalar.
  if (!isMap(doc.contents) && !isSeq(doc.contents)) doc.contents = new YAMLMap();
  for (let i = 1; i < path.length; i++) {
    const parent = path.slice(0, i);
    const node = doc.getIn(parent, true);
    if (node === undefined || node === null) {
      doc.setIn(parent, typeof path[i] === "number" ? new YAMLSeq() : new YAMLMap());
    }
  }
}

function pruneEmpty(doc: Document, path: Path) {
  // Removing the last key of `storageConfig.local` should not leave `local: {}` behind.
  for (let p = path; p.length > 0; p = p.slice(0, -1)) {
    // A list item stays even when emptied: its card (and the field being retyped) must not vanish.
    if (typeof p[p.length - 1] === "number") break;
    const node = doc.getIn(p, true);
    if ((isMap(node) || isSeq(node)) && node.items.length === 0) doc.deleteIn(p);
    else break;
  }
}
