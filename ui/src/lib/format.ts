const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${UNITS[i]}`;
}

export function formatDuration(secs: number | null | undefined): string {
  if (secs === null || secs === undefined) return "—";
  const s = Math.max(0, Math.round(secs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${r}s`;
  return `${r}s`;
}

/** Parts of `archiveSize` GiB a payload needs (oc-mirror never splits a file; this is the lower bound). */
export function partsFor(totalBytes: number, archiveSizeBytes: number | null): number {
  if (!archiveSizeBytes || archiveSizeBytes <= 0) return totalBytes > 0 ? 1 : 0;
  return Math.max(1, Math.ceil(totalBytes / archiveSizeBytes));
}
