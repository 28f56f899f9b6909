// CodeMirror 6 YAML editor with the engine's diagnostics as lint markers (line and column).
import { useEffect, useRef } from "react";
import { basicSetup, EditorView } from "codemirror";
import { EditorState } from "@codemirror/state";
import { yaml } from "@codemirror/lang-yaml";
import { lintGutter, setDiagnostics, type Diagnostic as CmDiagnostic } from "@codemirror/lint";
import type { Diagnostic } from "./bindings/Diagnostic";

export function toCmDiagnostics(state: EditorState, diags: Diagnostic[]): CmDiagnostic[] {
  return diags.map((d) => {
    const lineNo = Math.min(Math.max(1, d.line), state.doc.lines);
    const line = state.doc.line(lineNo);
    const from = Math.min(line.from + Math.max(0, d.column - 1), line.to);
    const to = line.to > from ? line.to : Math.min(from + 1, state.doc.length);
    return { from, to, severity: d.severity === "warning" ? "warning" : "error", message: d.message };
  });
}

export function YamlEditor({
  value,
  onChange,
  diagnostics,
}: {
  value: string;
  onChange: (v: string) => void;
  diagnostics: Diagnostic[];
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          yaml(),
          lintGutter(),
          EditorView.contentAttributes.of({ "aria-label": "Image set YAML", "data-testid": "yaml-editor" }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) changed.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
    // The editor is created once; later values arrive through the effect below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    }
  }, [value]);

  useEffect(() => {
    const v = view.current;
    if (v) v.dispatch(setDiagnostics(v.state, toCmDiagnostics(v.state, diagnostics)));
  }, [diagnostics, value]);

  return <div className="ferry-editor" ref={host} />;
}
