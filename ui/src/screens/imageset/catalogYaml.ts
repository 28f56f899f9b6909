// Writing a browser pick into the image set: `mirror.operators[]` entry of the catalog (as
// typed; added when missing), its `packages[]` entry of the package (added when missing), in it
// the channel picked with its version range (that channel replaced, other channels kept). Only those nodes change; the rest of the text and
// its comments stay as they are (the yaml Document API, like the form's other fields).
import { isMap, isSeq, YAMLMap, YAMLSeq } from "yaml";
import { parse } from "../../lib/imageset";

export type Pick = {
  catalog: string;
  pkg: string;
  channel: string;
  /** "" = not set. minVersion alone: that version and the upgrade graph up to the channel head. */
  minVersion: string;
  /** "" = not set. With minVersion: the range; alone: everything up to it. */
  maxVersion: string;
};

/** Index of the `mirror.operators[]` entry naming `catalog` (-1 when none). */
export function operatorIndex(text: string, catalog: string): number {
  const { doc } = parse(text);
  const ops = doc.getIn(["mirror", "operators"], true);
  if (!isSeq(ops)) return -1;
  return ops.items.findIndex((o) => isMap(o) && String((o as YAMLMap).get("catalog") ?? "").trim() === catalog.trim());
}

/** The text with the pick written in, and the operators index it went to. */
export function writePick(text: string, p: Pick): { text: string; index: number } {
  const { doc } = parse(text);
  if (!isMap(doc.contents)) doc.contents = new YAMLMap();
  if (!isMap(doc.getIn(["mirror"], true))) doc.setIn(["mirror"], new YAMLMap());
  let ops = doc.getIn(["mirror", "operators"], true);
  if (!isSeq(ops)) {
    doc.setIn(["mirror", "operators"], new YAMLSeq());
    ops = doc.getIn(["mirror", "operators"], true);
  }
  const seq = ops as YAMLSeq;
  let index = seq.items.findIndex((o) => isMap(o) && String((o as YAMLMap).get("catalog") ?? "").trim() === p.catalog.trim());
  if (index < 0) {
    seq.add(doc.createNode({ catalog: p.catalog.trim() }));
    index = seq.items.length - 1;
  }
  const channel: Record<string, string> = { name: p.channel };
  if (p.minVersion) channel.minVersion = p.minVersion;
  if (p.maxVersion) channel.maxVersion = p.maxVersion;
  const pkgsPath = ["mirror", "operators", index, "packages"];
  if (!isSeq(doc.getIn(pkgsPath, true))) doc.setIn(pkgsPath, doc.createNode([]));
  const list = doc.getIn(pkgsPath, true) as YAMLSeq;
  const at = list.items.findIndex((x) => isMap(x) && String((x as YAMLMap).get("name") ?? "") === p.pkg);
  if (at < 0) {
    list.add(doc.createNode({ name: p.pkg, channels: [channel] }));
    return { text: doc.toString(), index };
  }
  // The package is already listed: its other channels and fields stay; this channel is set.
  const chPath = [...pkgsPath, at, "channels"];
  if (!isSeq(doc.getIn(chPath, true))) doc.setIn(chPath, doc.createNode([]));
  const chans = doc.getIn(chPath, true) as YAMLSeq;
  const ci = chans.items.findIndex((x) => isMap(x) && String((x as YAMLMap).get("name") ?? "") === p.channel);
  if (ci >= 0) chans.items[ci] = doc.createNode(channel);
  else chans.add(doc.createNode(channel));
  return { text: doc.toString(), index };
}

/** 1-based line where `mirror.operators[index]` starts in the text (null when absent), so a
 * preview error (package not in the catalog, empty range) can be shown at its line. */
export function operatorLine(text: string, index: number): number | null {
  const { doc } = parse(text);
  const node = doc.getIn(["mirror", "operators", index], true) as { range?: [number, number, number] } | undefined;
  if (!node?.range) return null;
  return text.slice(0, node.range[0]).split("\n").length;
}
