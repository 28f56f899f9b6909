// Counted nouns read right: "1 image", "2 images", "1 registry", "3 registries".
const IRREGULAR: Record<string, string> = {
  registry: "registries",
  repository: "repositories",
  entry: "entries",
};

export function plural(n: number, noun: string, many?: string): string {
  const word = n === 1 ? noun : (many ?? IRREGULAR[noun] ?? `${noun}s`);
  return `${n.toLocaleString("en-US")} ${word}`;
}
