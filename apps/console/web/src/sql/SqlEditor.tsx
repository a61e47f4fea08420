import { useEffect, useRef } from 'react';
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { Compartment, EditorState, Prec } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers, placeholder } from '@codemirror/view';
import { tags as t } from '@lezer/highlight';
import type { SqlSchema } from '../../../src/contract';
import { clickhouse } from './clickhouse';

const style = HighlightStyle.define([
  { tag: t.keyword, color: '#7c3aed', fontWeight: '600' },
  { tag: t.typeName, color: '#0f766e' },
  { tag: t.standard(t.name), color: '#1d4ed8' },
  { tag: [t.string, t.special(t.string)], color: '#b45309' },
  { tag: [t.number, t.bool, t.null], color: '#be123c' },
  { tag: t.comment, color: '#64748b', fontStyle: 'italic' },
  { tag: t.operator, color: '#334155' },
  { tag: [t.special(t.name), t.quote], color: '#0369a1' },
  { tag: t.punctuation, color: '#475569' },
]);

const theme = EditorView.theme({
  '&': { fontSize: '13px', backgroundColor: '#fff', border: '1px solid #cbd5e1', borderRadius: '6px' },
  '&.cm-focused': { outline: '2px solid #93c5fd' },
  '.cm-content': { fontFamily: 'var(--mono)', minHeight: '140px' },
  '.cm-scroller': { fontFamily: 'var(--mono)', maxHeight: '420px', overflow: 'auto' },
  '.cm-gutters': { backgroundColor: '#f8fafc', borderRight: '1px solid #e2e8f0', color: '#94a3b8' },
  '.cm-tooltip-autocomplete ul li[aria-selected]': { backgroundColor: '#dbeafe', color: '#0f172a' },
  '.cm-completionDetail': { color: '#64748b', fontStyle: 'normal', marginLeft: '0.8em' },
});

export interface SqlEditorProps {
  value: string;
  onChange: (sql: string) => void;
  /** Ctrl/Cmd+Enter. */
  onRun: () => void;
  schema: SqlSchema | null;
}

/** CodeMirror 6 with the ClickHouse dialect; `value` replaces the text when it differs. */
export function SqlEditor({ value, onChange, onRun, schema }: SqlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const lang = useRef(new Compartment());
  const onChangeRef = useRef(onChange);
  const onRunRef = useRef(onRun);
  onChangeRef.current = onChange;
  onRunRef.current = onRun;

  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: value,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          history(),
          drawSelection(),
          indentOnInput(),
          bracketMatching(),
          closeBrackets(),
          autocompletion({ activateOnTyping: true, icons: true }),
          highlightActiveLine(),
          highlightSelectionMatches(),
          syntaxHighlighting(style),
          placeholder('SELECT … (Ctrl/Cmd+Enter runs)'),
          lang.current.of(clickhouse(null)),
          Prec.highest(
            keymap.of([
              {
                key: 'Mod-Enter',
                run: () => {
                  onRunRef.current();
                  return true;
                },
              },
            ]),
          ),
          keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
          EditorView.lineWrapping,
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChangeRef.current(u.state.doc.toString());
          }),
          EditorView.contentAttributes.of({ 'aria-label': 'SQL query' }),
          theme,
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The view is created once; `value` changes are applied below.
  }, []);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    }
  }, [value]);

  useEffect(() => {
    view.current?.dispatch({ effects: lang.current.reconfigure(clickhouse(schema)) });
  }, [schema]);

  return <div ref={host} className="sql-editor" data-testid="sql-editor" />;
}
