import '@xyflow/react/dist/style.css';
import {
  Alert,
  App,
  Breadcrumb,
  Button,
  Card,
  Empty,
  Form,
  Input,
  InputNumber,
  Modal,
  Result,
  Select,
  Space,
  Spin,
  Switch,
  Tabs,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import {
  BugOutlined,
  CodeOutlined,
  CheckCircleOutlined,
  DeleteOutlined,
  MenuFoldOutlined,
  MenuUnfoldOutlined,
  PlayCircleOutlined,
  SaveOutlined,
  SearchOutlined,
} from '@ant-design/icons';
import {
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  Controls,
  MarkerType,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { api, ApiError, errorText, type JobTemplate, type Pipeline, type PipelineDoc } from '../api';
import { useAuth } from '../auth';
import ArgsFields from '../components/ArgsForm';
import { layeredLayout, loadPositions, savePositions, type XY } from '../components/dag';
import { defaultProject, MONO, projectOptions } from '../components/images';
import {
  buildDoc,
  newSettings,
  settingsFromPipeline,
  taskFromDoc,
  taskFromTemplate,
  uniqueName,
  type NewPipelineState,
  type SettingsDraft,
  type TaskDraft,
} from '../components/pipelineDraft';
import { resolveTemplate, schemaEntries, schemaOf, templateRef } from '../components/pipelines';
import { setLeaveGuard } from '../components/leaveGuard';
import { EditorTaskNode, type EditorNode } from '../components/TaskNodes';
import { edgeTypes } from '../components/RoutedEdge';

const nodeTypes = { task: EditorTaskNode };
const TEMPLATE_MIME = 'application/x-quader-template';

/**
 * The pipeline editor (/pipelines/new and /pipelines/:id): job templates on the left
 * (click or drag one onto the canvas to add a task), the DAG in the middle (tasks as
 * nodes, depends_on as edges: drag from a task's bottom handle to another's top handle;
 * select and press Delete to remove), and on the right the selected task's settings and
 * the form generated from its template's schema, or the pipeline's settings.
 */
export default function PipelineEditorPage() {
  const { id } = useParams();
  return (
    <ReactFlowProvider key={id ?? 'new'}>
      <Editor id={id} />
    </ReactFlowProvider>
  );
}

type Notice = { type: 'error' | 'success'; text: string; source: 'validate' | 'save' | 'run' };

function Editor({ id }: { id?: string }) {
  const { me } = useAuth();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const location = useLocation();
  const rf = useReactFlow<EditorNode, Edge>();

  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [pipeline, setPipeline] = useState<Pipeline | null>(null);
  const [templates, setTemplates] = useState<JobTemplate[]>([]);
  const [settings, setSettings] = useState<SettingsDraft>(() => newSettings({}));
  const [nodes, setNodes] = useState<EditorNode[]>([]);
  const [edges, setEdges] = useState<Edge[]>([]);
  const [savedJson, setSavedJson] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [busy, setBusy] = useState<'validate' | 'save' | 'run' | null>(null);
  const [tab, setTab] = useState<'task' | 'pipeline'>('pipeline');
  const nextId = useRef(1);
  const newId = () => `t${nextId.current++}`;
  const layoutKey = pipeline ? pipeline.id : 'new';

  // Load the pipeline (or start a new one) and the templates it can use.
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const [p, t] = await Promise.all([
          id ? api.getPipeline(id) : Promise.resolve(null),
          api.listTemplates().catch(() => ({ items: [] as JobTemplate[] })),
        ]);
        if (!live) return;
        const tpls = t.items ?? [];
        setTemplates(tpls);
        let s: SettingsDraft;
        if (p) {
          s = settingsFromPipeline(p);
        } else {
          const init = (location.state ?? {}) as NewPipelineState;
          s = newSettings({ ...init, project: init.project ?? defaultProject(me, '') });
        }
        setSettings(s);
        setPipeline(p);
        if (!p) savePositions('new', {}); // a new pipeline starts on an empty canvas
        const stored = loadPositions(p ? p.id : 'new');
        const byName = new Map<string, string>();
        const ns: EditorNode[] = (p?.tasks ?? []).map((task) => {
          const nid = newId();
          byName.set(task.name, nid);
          const tpl = resolveTemplate(tpls, task.template, s.project);
          const pos = stored[task.name];
          return {
            id: nid,
            type: 'task',
            position: pos ?? { x: 0, y: 0 },
            data: { task: taskFromDoc(task, tpl), placed: !!pos, templateFound: !!tpl },
          };
        });
        const es: Edge[] = [];
        for (const task of p?.tasks ?? []) {
          for (const dep of task.depends_on ?? []) {
            const source = byName.get(dep);
            const target = byName.get(task.name);
            if (source && target) es.push(makeEdge(source, target));
          }
        }
        setNodes(autoPlace(ns, es));
        setEdges(es);
        if (p) {
          try {
            setSavedJson(JSON.stringify(buildDoc(s, tasksWithDeps(ns, es), tpls)));
          } catch {
            setSavedJson(null);
          }
        }
        setLoadError(null);
      } catch (e) {
        if (live) setLoadError(e instanceof Error ? e : new Error(String(e)));
      } finally {
        if (live) setLoading(false);
      }
    })();
    return () => {
      live = false;
    };
    // Loaded once per pipeline (the component is keyed by id).
  }, []);

  // Tasks nobody placed follow the layered layout whenever the graph changes.
  const structure = nodes.map((n) => n.id + (n.data.placed ? '!' : '')).join(',') + '|' + edges.map((e) => `${e.source}>${e.target}`).join(',');
  useEffect(() => {
    setNodes((prev) => {
      const next = autoPlace(prev, edges);
      return next.some((n, i) => n !== prev[i]) ? next : prev;
    });
  }, [structure]);

  // Positions the user chose are kept in this browser, per pipeline, by task name.
  const placedJson = JSON.stringify(
    Object.fromEntries(nodes.filter((n) => n.data.placed).map((n) => [n.data.task.name, { x: Math.round(n.position.x), y: Math.round(n.position.y) }])),
  );
  useEffect(() => {
    if (loading) return;
    savePositions(layoutKey, JSON.parse(placedJson) as Record<string, XY>);
  }, [placedJson, layoutKey, loading]);

  const names = useMemo(() => new Map(nodes.map((n) => [n.id, n.data.task.name])), [nodes]);

  // The document as it stands (or why it cannot be made), and whether it differs from the saved one.
  const current = useMemo((): { doc: PipelineDoc } | { error: string } => {
    try {
      return { doc: buildDoc(settings, tasksWithDeps(nodes, edges), templates) };
    } catch (e) {
      return { error: errorText(e) };
    }
  }, [settings, nodes, edges, templates]);
  const dirty = !('doc' in current) || savedJson === null || JSON.stringify(current.doc) !== savedJson;
  // Run asked with unsaved edits: of the whole pipeline (''), or a debug run of that task.
  const [askRun, setAskRun] = useState<string | null>(null);
  // The debug run asked for waits idle for a terminal instead of running the task's command.
  const idleRun = useRef(false);

  // Leaving with unsaved edits asks first (the menu, links, reload, closing the tab).
  useEffect(() => {
    const work = pipeline !== null || nodes.length > 0; // an untouched new pipeline has nothing to lose
    setLeaveGuard(dirty && work && !loading ? 'The pipeline has unsaved changes. Leave without saving them?' : null);
  }, [dirty, loading, pipeline, nodes.length]);
  useEffect(() => () => setLeaveGuard(null), []);

  // Templates of the pipeline's own project (when the first list did not include them).
  useEffect(() => {
    if (loading || !settings.project || settings.project === 'public') return;
    let live = true;
    api
      .listTemplates(settings.project)
      .then((r) => {
        if (!live) return;
        setTemplates((prev) => {
          const have = new Set(prev.map((t) => t.id));
          const more = (r.items ?? []).filter((t) => !have.has(t.id));
          return more.length > 0 ? [...prev, ...more] : prev;
        });
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [loading, settings.project]);

  const usable = useMemo(
    () => templates.filter((t) => t.project === settings.project || t.project === 'public'),
    [templates, settings.project],
  );

  // After a task is added by a click, show the whole DAG once the new node is measured.
  const [fitPending, setFitPending] = useState(false);
  useEffect(() => {
    if (!fitPending || !nodes.every((n) => n.measured?.width)) return;
    setFitPending(false);
    void rf.fitView({ maxZoom: 1, padding: 0.15 });
  }, [fitPending, nodes, rf]);

  // The side panels fold away to give the graph the room; open at first on a wide screen.
  const [leftOpen, setLeftOpen] = useState(() => window.innerWidth >= 1500);
  const [rightOpen, setRightOpen] = useState(() => window.innerWidth >= 1500);
  const selectedNodes = nodes.filter((n) => n.selected);
  const selected = selectedNodes.length === 1 ? selectedNodes[0] : null;
  useEffect(() => {
    if (selected) {
      setTab('task');
      setRightOpen(true);
    }
  }, [selected?.id]);

  // --- canvas events

  const onNodesChange = useCallback((changes: NodeChange<EditorNode>[]) => {
    setNodes((nds) => {
      let next = applyNodeChanges(changes, nds);
      const moved = new Set(changes.filter((c) => c.type === 'position' && c.position).map((c) => (c as { id: string }).id));
      if (moved.size > 0) next = next.map((n) => (moved.has(n.id) && !n.data.placed ? { ...n, data: { ...n.data, placed: true } } : n));
      return next;
    });
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange<Edge>[]) => setEdges((eds) => applyEdgeChanges(changes, eds)), []);

  const onConnect = useCallback((c: Connection) => {
    if (!c.source || !c.target || c.source === c.target) return;
    setEdges((eds) => (eds.some((e) => e.source === c.source && e.target === c.target) ? eds : [...eds, makeEdge(c.source, c.target)]));
  }, []);

  const addTask = (t: JobTemplate, position?: XY) => {
    const name = uniqueName(t.name, nodes.map((n) => n.data.task.name));
    const node: EditorNode = {
      id: newId(),
      type: 'task',
      position: position ?? { x: 0, y: 0 },
      selected: true,
      data: { task: taskFromTemplate(name, templateRef(templates, t, settings.project), t), placed: !!position, templateFound: true },
    };
    setNodes((nds) => [...nds.map((n) => (n.selected ? { ...n, selected: false } : n)), node]);
    setEdges((eds) => eds.map((e) => (e.selected ? { ...e, selected: false } : e)));
    setTab('task');
    if (!position) setFitPending(true);
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    const key = e.dataTransfer.getData(TEMPLATE_MIME);
    const t = templates.find((x) => String(x.id) === key);
    if (!t) return;
    const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    addTask(t, { x: p.x - 100, y: p.y - 24 });
  };

  const updateTask = (nid: string, patch: Partial<TaskDraft>) =>
    setNodes((nds) => nds.map((n) => (n.id === nid ? { ...n, data: { ...n.data, task: { ...n.data.task, ...patch } } } : n)));

  const setDeps = (nid: string, upstream: string[]) =>
    setEdges((eds) => [...eds.filter((e) => e.target !== nid), ...upstream.filter((u) => u !== nid).map((u) => makeEdge(u, nid))]);

  // --- validate / save / run

  const docOrNotice = (source: Notice['source']): PipelineDoc | null => {
    if ('error' in current) {
      setNotice({ type: 'error', text: current.error, source });
      return null;
    }
    return current.doc;
  };

  const validate = async () => {
    const doc = docOrNotice('validate');
    if (!doc) return;
    setBusy('validate');
    setNotice(null);
    try {
      await api.validatePipeline(doc);
      setNotice({ type: 'success', text: 'The pipeline is valid.', source: 'validate' });
    } catch (e) {
      setNotice({ type: 'error', text: errorText(e), source: 'validate' });
    } finally {
      setBusy(null);
    }
  };

  /** Saves (POST for a new pipeline, PUT otherwise); the saved pipeline, or null with the error shown. */
  const save = async (source: Notice['source']): Promise<Pipeline | null> => {
    const doc = docOrNotice(source);
    if (!doc) return null;
    setNotice(null);
    try {
      const p = pipeline ? await api.updatePipeline(pipeline.id, doc) : await api.createPipeline(doc);
      if (!pipeline) savePositions(p.id, JSON.parse(placedJson) as Record<string, XY>);
      setPipeline(p);
      setSavedJson(JSON.stringify(doc));
      return p;
    } catch (e) {
      setNotice({ type: 'error', text: errorText(e), source });
      return null;
    }
  };

  const onSave = async () => {
    setBusy('save');
    const wasNew = !pipeline;
    const p = await save('save');
    setBusy(null);
    if (!p) return;
    message.success(`Pipeline ${p.name} saved`);
    if (wasNew) navigate(`/pipelines/${p.id}`, { replace: true });
  };

  /** Runs the saved pipeline (or, with `task`, that task alone), saving the edits first when `withEdits`. */
  const runIt = async (withEdits: boolean, task = '') => {
    setAskRun(null);
    setBusy('run');
    try {
      const p = withEdits || !pipeline ? await save('run') : pipeline;
      if (!p) return;
      const idle = !!task && idleRun.current;
      const run = task ? await api.runTask(p.id, task, idle) : await api.runPipeline(p.id);
      setLeaveGuard(null); // leaving for the run is what was asked for
      navigate(idle ? `/runs/${run.id}?task=${encodeURIComponent(task)}&terminal=1` : `/runs/${run.id}`);
    } catch (e) {
      setNotice({ type: 'error', text: errorText(e), source: 'run' });
    } finally {
      setBusy(null);
    }
  };

  // Unsaved edits are never saved behind the user's back: Run asks first.
  const onRun = (task = '', idle = false) => {
    idleRun.current = idle;
    if (dirty) setAskRun(task);
    else void runIt(false, task);
  };

  // --- render

  if (loadError) {
    const missing = loadError instanceof ApiError && loadError.status === 404;
    return (
      <Result
        status={missing ? '404' : 'error'}
        title={missing ? 'Pipeline not found' : 'Cannot load the pipeline'}
        subTitle={<span data-testid="pipeline-error">{loadError.message}</span>}
        extra={<Button onClick={() => navigate('/pipelines')}>Back to pipelines</Button>}
      />
    );
  }
  if (loading) {
    return (
      <div style={{ display: 'flex', justifyContent: 'center', marginTop: 80 }}>
        <Spin size="large" />
      </div>
    );
  }

  const flowEdges = edges.map((e) => {
    const label = `${names.get(e.source)}->${names.get(e.target)}`;
    return { ...e, ariaLabel: `${names.get(e.source)} before ${names.get(e.target)}`, domAttributes: { 'data-testid': `edge-${label}` } as Edge['domAttributes'] };
  });

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Breadcrumb
        items={[
          { title: <Link to="/pipelines">Pipelines</Link> },
          { title: pipeline ? pipeline.name : 'New pipeline' },
        ]}
      />
      <Card
        size="small"
        title={
          <Space wrap>
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="pipeline-title">
              {settings.name || (pipeline ? pipeline.name : 'New pipeline')}
            </Typography.Title>
            <Tag>{settings.project}</Tag>
            {pipeline ? (
              dirty && (
                <Tag color="gold" data-testid="unsaved">
                  unsaved changes
                </Tag>
              )
            ) : (
              <Tag color="gold" data-testid="unsaved">
                not saved yet
              </Tag>
            )}
          </Space>
        }
        extra={
          <Space wrap>
            {pipeline && (
              <>
                <Link to={`/runs?project=${encodeURIComponent(pipeline.project)}&pipeline=${encodeURIComponent(pipeline.name)}`}>Runs</Link>
                <Link to={`/schedules?project=${encodeURIComponent(pipeline.project)}&pipeline=${encodeURIComponent(pipeline.name)}`}>Schedules</Link>
              </>
            )}
            <Button icon={<CheckCircleOutlined />} onClick={() => void validate()} loading={busy === 'validate'} data-testid="validate-button">
              Validate
            </Button>
            <Button icon={<SaveOutlined />} onClick={() => void onSave()} loading={busy === 'save'} data-testid="save-button">
              Save
            </Button>
            <Tooltip title={dirty ? 'Asks whether to save the changes first' : undefined}>
              <Button type="primary" icon={<PlayCircleOutlined />} onClick={() => onRun()} loading={busy === 'run'} data-testid="run-button">
                Run
              </Button>
            </Tooltip>
          </Space>
        }
      >
        <Modal
          open={askRun !== null}
          title={
            (pipeline ? 'Run with your unsaved changes?' : 'Save the new pipeline and run it?') +
            (askRun ? ` (a debug run of ${askRun})` : '')
          }
          onCancel={() => setAskRun(null)}
          data-testid="run-unsaved-dialog"
          footer={[
            <Button key="cancel" onClick={() => setAskRun(null)} data-testid="run-cancel">
              Cancel
            </Button>,
            pipeline && (
              <Button key="saved" onClick={() => void runIt(false, askRun ?? '')} data-testid="run-saved-version">
                Run the saved version
              </Button>
            ),
            <Button key="save" type="primary" onClick={() => void runIt(true, askRun ?? '')} data-testid="run-save-and-run">
              Save and run
            </Button>,
          ]}
        >
          {pipeline ? (
            <span>
              The editor has changes that are not saved. <b>Save and run</b> saves them into the pipeline
              {pipeline.schedule?.enabled ? ' (its schedule runs them from then on)' : ''} first; <b>Run the saved version</b>{' '}
              runs the pipeline as it was last saved and keeps your edits here.
            </span>
          ) : (
            <span>A run is of a saved pipeline: this one is saved first.</span>
          )}
        </Modal>
        {notice && (
          <Alert
            type={notice.type}
            showIcon
            closable
            onClose={() => setNotice(null)}
            role={notice.type === 'error' ? 'alert' : 'status'}
            style={{ marginBottom: 12 }}
            data-testid={notice.type === 'error' ? 'validation-error' : 'validation-ok'}
            data-source={notice.source}
            message={<span style={{ whiteSpace: 'pre-wrap' }}>{notice.text}</span>}
          />
        )}
        <div style={{ display: 'flex', gap: 12, height: 'calc(100vh - 260px)', minHeight: 520 }}>
          {leftOpen ? (
            <div style={{ display: 'flex', flexShrink: 0 }}>
              <TemplatePanel templates={usable} onAdd={(t) => addTask(t)} />
              <PanelToggle side="left" open onToggle={() => setLeftOpen(false)} testId="toggle-templates" />
            </div>
          ) : (
            <PanelToggle side="left" open={false} onToggle={() => setLeftOpen(true)} testId="toggle-templates" label="Templates" />
          )}
          <div
            data-testid="pipeline-canvas"
            style={{ flex: 1, minWidth: 0, border: '1px solid #f0f0f0', borderRadius: 8, position: 'relative' }}
            onDragOver={(e) => {
              if (e.dataTransfer.types.includes(TEMPLATE_MIME)) {
                e.preventDefault();
                e.dataTransfer.dropEffect = 'copy';
              }
            }}
            onDrop={onDrop}
          >
            <ReactFlow<EditorNode, Edge>
              nodes={nodes}
              edges={flowEdges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              deleteKeyCode={['Delete', 'Backspace']}
              defaultEdgeOptions={{ type: 'routed', markerEnd: { type: MarkerType.ArrowClosed }, interactionWidth: 24 }}
              fitView
              fitViewOptions={{ maxZoom: 1 }}
              minZoom={0.2}
            >
              <Background gap={16} />
              <Controls showInteractive={false} />
            </ReactFlow>
            {nodes.length === 0 && (
              <div style={{ position: 'absolute', inset: 0, display: 'flex', alignItems: 'center', justifyContent: 'center', pointerEvents: 'none' }}>
                <Empty description="Add a task: click a job template on the left, or drag it here" data-testid="canvas-empty" />
              </div>
            )}
          </div>
          {!rightOpen && (
            <PanelToggle side="right" open={false} onToggle={() => setRightOpen(true)} testId="toggle-side-panel" label="Settings" />
          )}
          <div
            style={{ width: 380, flexShrink: 0, overflow: 'auto', borderLeft: '1px solid #f0f0f0', paddingLeft: 12, display: rightOpen ? 'block' : 'none' }}
            data-testid="side-panel"
          >
            <div style={{ display: 'flex', justifyContent: 'flex-end' }}>
              <PanelToggle side="right" open onToggle={() => setRightOpen(false)} testId="toggle-side-panel" />
            </div>
            <Tabs
              activeKey={tab}
              onChange={(k) => setTab(k as 'task' | 'pipeline')}
              size="small"
              items={[
                {
                  key: 'task',
                  label: <span data-testid="tab-task">Task</span>,
                  children: selected ? (
                    <TaskPanel
                      key={selected.id}
                      node={selected}
                      project={settings.project}
                      templates={templates}
                      others={nodes.filter((n) => n.id !== selected.id).map((n) => ({ id: n.id, name: n.data.task.name }))}
                      upstream={edges.filter((e) => e.target === selected.id).map((e) => e.source)}
                      onChange={(patch) => updateTask(selected.id, patch)}
                      onDeps={(ups) => setDeps(selected.id, ups)}
                      onRemove={() => void rf.deleteElements({ nodes: [{ id: selected.id }] })}
                      onDebugRun={() => onRun(selected.data.task.name)}
                      onDebugShell={() => onRun(selected.data.task.name, true)}
                      debugBusy={busy === 'run'}
                    />
                  ) : (
                    <Empty
                      image={Empty.PRESENTED_IMAGE_SIMPLE}
                      description={selectedNodes.length > 1 ? 'Several tasks are selected' : 'Select a task on the canvas'}
                    />
                  ),
                },
                {
                  key: 'pipeline',
                  label: <span data-testid="tab-pipeline">Pipeline</span>,
                  children: <SettingsPanel settings={settings} isNew={!pipeline} onChange={(patch) => setSettings((s) => ({ ...s, ...patch }))} />,
                },
              ]}
            />
          </div>
        </div>
      </Card>
    </Space>
  );
}

function makeEdge(source: string, target: string): Edge {
  return { id: `${source}->${target}`, source, target, type: 'routed', markerEnd: { type: MarkerType.ArrowClosed }, interactionWidth: 24 };
}

/** The tasks in canvas order with the names of their upstream tasks. */
function tasksWithDeps(nodes: EditorNode[], edges: Edge[]): { task: TaskDraft; deps: string[] }[] {
  const names = new Map(nodes.map((n) => [n.id, n.data.task.name.trim()]));
  return nodes.map((n) => ({
    task: n.data.task,
    deps: edges.filter((e) => e.target === n.id && names.has(e.source)).map((e) => names.get(e.source)!),
  }));
}

/** Gives every node the user did not place its spot in the layered layout. */
function autoPlace(nodes: EditorNode[], edges: Edge[]): EditorNode[] {
  if (nodes.every((n) => n.data.placed)) return nodes;
  const auto = layeredLayout(nodes.map((n) => n.id), edges);
  return nodes.map((n) => {
    if (n.data.placed) return n;
    const p = auto.get(n.id);
    if (!p || (p.x === n.position.x && p.y === n.position.y)) return n;
    return { ...n, position: p };
  });
}

/** The button that folds a side panel away (a thin strip with its name when folded) or opens it. */
function PanelToggle(props: { side: 'left' | 'right'; open: boolean; onToggle: () => void; testId: string; label?: string }) {
  const icon = (props.side === 'left') === props.open ? <MenuFoldOutlined /> : <MenuUnfoldOutlined />;
  if (props.open) {
    return (
      <Tooltip title="Fold this panel away">
        <Button type="text" size="small" icon={icon} onClick={props.onToggle} data-testid={props.testId} aria-label="Fold the panel" />
      </Tooltip>
    );
  }
  return (
    <div style={{ width: 32, flexShrink: 0, display: 'flex', flexDirection: 'column', alignItems: 'center', gap: 8 }}>
      <Button type="text" size="small" icon={icon} onClick={props.onToggle} data-testid={props.testId} aria-label={`Open ${props.label}`} />
      <span style={{ writingMode: 'vertical-rl', color: '#8c8c8c', cursor: 'pointer', userSelect: 'none' }} onClick={props.onToggle}>
        {props.label}
      </span>
    </div>
  );
}

function TemplatePanel({ templates, onAdd }: { templates: JobTemplate[]; onAdd: (t: JobTemplate) => void }) {
  const [filter, setFilter] = useState('');
  const needle = filter.trim().toLowerCase();
  const shown = templates.filter((t) => !needle || t.name.toLowerCase().includes(needle) || t.description.toLowerCase().includes(needle));
  return (
    <div style={{ width: 230, flexShrink: 0, display: 'flex', flexDirection: 'column', gap: 8 }} data-testid="template-panel">
      <Typography.Text strong>Job templates</Typography.Text>
      <Input size="small" allowClear prefix={<SearchOutlined />} placeholder="Filter" value={filter} onChange={(e) => setFilter(e.target.value)} />
      <div style={{ overflow: 'auto', flex: 1, display: 'flex', flexDirection: 'column', gap: 6 }}>
        {shown.length === 0 && (
          <Empty
            image={Empty.PRESENTED_IMAGE_SIMPLE}
            description={
              templates.length === 0 ? (
                <span>
                  No job templates yet. <Link to="/templates">Job templates</Link>
                </span>
              ) : (
                'No match'
              )
            }
          />
        )}
        {shown.map((t) => (
          <div
            key={t.id}
            role="button"
            tabIndex={0}
            draggable
            data-testid={`add-template-${t.project}/${t.name}`}
            title={`${t.description || t.name}\nClick to add a task, or drag it onto the canvas`}
            onDragStart={(e) => {
              e.dataTransfer.setData(TEMPLATE_MIME, String(t.id));
              e.dataTransfer.effectAllowed = 'copy';
            }}
            onClick={() => onAdd(t)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                onAdd(t);
              }
            }}
            style={{ border: '1px solid #d9d9d9', borderRadius: 6, padding: '6px 10px', cursor: 'grab', background: '#fff' }}
          >
            <div style={{ fontWeight: 500 }}>
              {t.name} {t.version && t.version !== 'Release' && <Tag color="orange">{t.version}</Tag>}
            </div>
            <div style={{ fontSize: 12, color: 'rgba(0,0,0,0.45)' }}>
              {t.project}
              {t.description ? ` · ${t.description}` : ''}
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}

const DURATION_HELP = 'Seconds, or 30s, 10m, 2h, 1d';

function TaskPanel(props: {
  node: EditorNode;
  project: string;
  templates: JobTemplate[];
  others: { id: string; name: string }[];
  upstream: string[];
  onChange: (patch: Partial<TaskDraft>) => void;
  onDeps: (upstream: string[]) => void;
  onRemove: () => void;
  /** A debug run of this task alone (docs/pipelines.md). */
  onDebugRun: () => void;
  onDebugShell: () => void;
  debugBusy: boolean;
}) {
  const task = props.node.data.task;
  const tpl = resolveTemplate(props.templates, task.template, props.project);
  const schema = schemaOf(tpl);
  const known = new Set(schemaEntries(schema).map((e) => e.name));
  const unknownArgs = tpl ? Object.keys(task.args).filter((k) => !known.has(k)) : [];
  const res = tpl?.resources ?? {};
  const [form] = Form.useForm();

  return (
    <Form
      form={form}
      layout="vertical"
      size="small"
      initialValues={task}
      data-testid="task-form"
      onValuesChange={(changed: Partial<TaskDraft>) => {
        const patch: Partial<TaskDraft> = { ...changed };
        if (changed.args) patch.args = { ...task.args, ...changed.args };
        props.onChange(patch);
      }}
    >
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 8 }}>
        <Typography.Text type="secondary">
          Template{' '}
          {tpl ? (
            <Link to={`/templates/${tpl.id}`} data-testid="task-template-link">
              {tpl.project}/{tpl.name}
            </Link>
          ) : (
            <Typography.Text code>{task.template}</Typography.Text>
          )}
        </Typography.Text>
        <Space>
          <Tooltip title="Run this task alone, with the pipeline's settings (its upstream tasks do not run)">
            <Button size="small" icon={<BugOutlined />} onClick={props.onDebugRun} loading={props.debugBusy} data-testid="debug-run-task">
              Debug run
            </Button>
          </Tooltip>
          <Tooltip title="Start this task alone in its image, with its env and mounts, waiting instead of running its command, and open a terminal in it">
            <Button size="small" icon={<CodeOutlined />} onClick={props.onDebugShell} loading={props.debugBusy} data-testid="debug-shell-task">
              Debug with a shell
            </Button>
          </Tooltip>
          <Button size="small" danger icon={<DeleteOutlined />} onClick={props.onRemove} data-testid="remove-task">
            Remove
          </Button>
        </Space>
      </Space>
      {!tpl && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 12 }}
          message={`No job template "${task.template}" in ${props.project} or public: its parameters cannot be shown.`}
        />
      )}
      <Form.Item
        label="Name"
        name="name"
        rules={[
          { required: true, whitespace: true, message: 'A task needs a name' },
          {
            validator: async (_, v: string) => {
              if (v && props.others.some((o) => o.name === v.trim())) throw new Error(`Another task is named ${v.trim()}`);
            },
          },
        ]}
      >
        <Input data-testid="task-name" spellCheck={false} />
      </Form.Item>
      <Form.Item label="Label" name="label" tooltip="Display name on the canvas">
        <Input data-testid="task-label" />
      </Form.Item>
      <Form.Item label="Depends on" tooltip="Upstream tasks; the same as drawing an edge into this task">
        <Select
          data-testid="task-depends-on"
          mode="multiple"
          value={props.upstream}
          onChange={props.onDeps}
          options={props.others.map((o) => ({ value: o.id, label: o.name, title: o.name }))}
          placeholder="none: starts first"
        />
      </Form.Item>

      <Typography.Title level={5}>Parameters</Typography.Title>
      {tpl ? <ArgsFields schema={schema} /> : null}
      {unknownArgs.length > 0 && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 12 }}
          message={`Not in the template's schema: ${unknownArgs.join(', ')}`}
          action={
            <Button
              size="small"
              onClick={() => props.onChange({ args: Object.fromEntries(Object.entries(task.args).filter(([k]) => known.has(k))) })}
            >
              Drop
            </Button>
          }
        />
      )}

      <Typography.Title level={5}>Resources and limits</Typography.Title>
      <Space.Compact block>
        <Form.Item label="CPU" name="cpu" style={{ flex: 1 }}>
          <InputNumber data-testid="task-cpu" min={0} step={0.5} placeholder={res.cpu !== undefined ? String(res.cpu) : ''} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item label="Memory" name="memory" style={{ flex: 1 }}>
          <Input data-testid="task-memory" placeholder={res.memory !== undefined ? String(res.memory) : '2G'} />
        </Form.Item>
        <Form.Item label="GPU" name="gpu" style={{ flex: 1 }}>
          <InputNumber data-testid="task-gpu" min={0} step={1} placeholder={res.gpu !== undefined ? String(res.gpu) : ''} style={{ width: '100%' }} />
        </Form.Item>
      </Space.Compact>
      <Typography.Text type="secondary" style={{ display: 'block', marginTop: -16, marginBottom: 12, fontSize: 12 }}>
        Empty: the template's resources.
      </Typography.Text>
      <Space.Compact block>
        <Form.Item label="Timeout" name="timeout" tooltip={`${DURATION_HELP}; empty or 0: no limit`} style={{ flex: 1 }}>
          <Input data-testid="task-timeout" placeholder="0" />
        </Form.Item>
        <Form.Item label="Retries" name="retries" tooltip="Extra attempts after a failure" style={{ flex: 1 }}>
          <InputNumber data-testid="task-retries" min={0} max={100} precision={0} placeholder="0" style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item label="Retry backoff" name="retry_backoff" tooltip={`Before attempt 2; doubled for each later one. ${DURATION_HELP}`} style={{ flex: 1 }}>
          <Input data-testid="task-retry-backoff" placeholder="10s" />
        </Form.Item>
      </Space.Compact>

      <Typography.Title level={5}>Environment</Typography.Title>
      <Form.Item label="Env" name="env" extra="KEY=VALUE lines, added to the template's and the pipeline's">
        <Input.TextArea data-testid="task-env" autoSize={{ minRows: 2, maxRows: 8 }} spellCheck={false} style={{ fontFamily: MONO }} />
      </Form.Item>
      <Form.Item label="Working directory" name="working_dir">
        <Input data-testid="task-working-dir" placeholder={tpl?.working_dir || ''} spellCheck={false} />
      </Form.Item>
      <Form.Item label="Node selector" name="node_selector" tooltip='"cpu=true,org=public"'>
        <Input data-testid="task-node-selector" spellCheck={false} />
      </Form.Item>
      <Form.Item label="Volume mount" name="volume_mount" tooltip="Extra mounts, in the project grammar (docs/projects.md)">
        <Input data-testid="task-volume-mount" spellCheck={false} />
      </Form.Item>
      <Form.Item label="Data sets" name="datasets" tooltip="Read-only at /datasets/NAME: iris@2, digits (the newest when no @VERSION)">
        <Input data-testid="task-datasets" placeholder="iris@2, digits" spellCheck={false} />
      </Form.Item>
      <Form.Item label="Skip" name="skip" valuePropName="checked" tooltip="The task is not run and shows skipped; downstream tasks go on">
        <Switch data-testid="task-skip" />
      </Form.Item>
    </Form>
  );
}

function SettingsPanel({ settings, isNew, onChange }: { settings: SettingsDraft; isNew: boolean; onChange: (patch: Partial<SettingsDraft>) => void }) {
  const { me } = useAuth();
  return (
    <Form
      layout="vertical"
      size="small"
      initialValues={settings}
      data-testid="pipeline-form"
      onValuesChange={(changed: Partial<SettingsDraft>) => onChange(changed)}
    >
      <Form.Item label="Name" name="name" rules={[{ required: true, whitespace: true, message: 'A pipeline needs a name' }]}>
        <Input data-testid="pipeline-name" disabled={!isNew} spellCheck={false} />
      </Form.Item>
      <Form.Item label="Project" name="project">
        <Select data-testid="pipeline-project" disabled={!isNew} options={projectOptions(me)} showSearch optionFilterProp="label" />
      </Form.Item>
      <Form.Item label="Description" name="description">
        <Input.TextArea data-testid="pipeline-description" autoSize={{ minRows: 1, maxRows: 4 }} />
      </Form.Item>
      <Form.Item label="Global env" name="global_env" extra="KEY=VALUE lines: every task's env, also usable as {{KEY}}">
        <Input.TextArea data-testid="pipeline-global-env" autoSize={{ minRows: 2, maxRows: 8 }} spellCheck={false} style={{ fontFamily: MONO }} />
      </Form.Item>
      <Space.Compact block>
        <Form.Item label="Parallelism" name="parallelism" tooltip="Tasks at once in one run" style={{ flex: 1 }}>
          <InputNumber data-testid="pipeline-parallelism" min={1} max={1000} precision={0} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item label="Max active runs" name="max_active_runs" tooltip="Runs at once; scheduled launches beyond it are skipped" style={{ flex: 1 }}>
          <InputNumber data-testid="pipeline-max-active-runs" min={1} precision={0} style={{ width: '100%' }} />
        </Form.Item>
      </Space.Compact>
      <Space.Compact block>
        <Form.Item label="Depends on past" name="depends_on_past" valuePropName="checked" tooltip="A scheduled run waits for the previous one to succeed" style={{ flex: 1 }}>
          <Switch data-testid="pipeline-depends-on-past" />
        </Form.Item>
        <Form.Item label="Expired limit" name="expired_limit" tooltip={`A schedule record older than this is not launched. ${DURATION_HELP}; empty or 0: never`} style={{ flex: 1 }}>
          <Input data-testid="pipeline-expired-limit" placeholder="0" />
        </Form.Item>
      </Space.Compact>

      <Typography.Title level={5}>Schedule</Typography.Title>
      <Form.Item label="Cron" name="cron" extra="5 fields, or @hourly, @daily, @weekly, @monthly, @yearly; empty: no schedule">
        <Input data-testid="schedule-cron" placeholder="0 2 * * *" spellCheck={false} style={{ fontFamily: MONO }} />
      </Form.Item>
      <Form.Item label="Time zone" name="timezone" tooltip="IANA name">
        <Input data-testid="schedule-timezone" placeholder="UTC" spellCheck={false} />
      </Form.Item>
      <Form.Item label="Start time" name="start_time" tooltip="No fire before it: YYYY-MM-DD HH:MM:SS in the time zone, or RFC 3339">
        <Input data-testid="schedule-start-time" placeholder="2026-12-01 00:00:00" spellCheck={false} />
      </Form.Item>
      <Space.Compact block>
        <Form.Item label="Catch-up" name="catchup" tooltip="Fire times missed while the server was down" style={{ flex: 1 }}>
          <Select
            data-testid="schedule-catchup"
            options={[
              { value: 'latest', label: 'latest' },
              { value: 'all', label: 'all' },
              { value: 'none', label: 'none' },
            ]}
          />
        </Form.Item>
        <Form.Item label="Enabled" name="enabled" valuePropName="checked" style={{ flex: 1 }}>
          <Switch data-testid="schedule-enabled" />
        </Form.Item>
      </Space.Compact>

      <Typography.Title level={5}>Webhook</Typography.Title>
      <Form.Item label="URL" name="webhook_url" tooltip="POSTed when a run ends in one of the states below">
        <Input data-testid="webhook-url" placeholder="http://127.0.0.1:9000/hook" spellCheck={false} />
      </Form.Item>
      <Form.Item label="On" name="webhook_on">
        <Select
          data-testid="webhook-on"
          mode="multiple"
          options={['failed', 'succeeded', 'stopped'].map((s) => ({ value: s, label: s }))}
        />
      </Form.Item>
    </Form>
  );
}
