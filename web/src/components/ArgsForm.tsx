import type { ReactNode } from 'react';
import { Empty, Form, Input, InputNumber, Select, Switch, Typography } from 'antd';
import type { ArgAttrs, ArgSchema } from '../api';
import { argRequired, argType, schemaEntries } from './pipelines';
import { MONO } from './images';

/**
 * The form generated from a job template's parameter schema (cube-studio's `args`):
 * one heading per group, one field per parameter, typed by `type` — int/float →
 * number, bool → switch, str → input, text → text area, enum → select, multiple →
 * multi-select, list → tags, dict/json → JSON text, file → input. `label` is the
 * field's label, `describe` its help text, `placeholder`, `default` and `require`
 * apply. It renders Form.Items named [prefix, parameter] inside the caller's <Form>.
 */
export default function ArgsFields(props: { schema: ArgSchema; prefix?: string; disabled?: boolean }) {
  const entries = schemaEntries(props.schema);
  if (entries.length === 0) {
    return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="This template has no parameters" />;
  }
  const groups: string[] = [];
  for (const e of entries) if (!groups.includes(e.group)) groups.push(e.group);
  const prefix = props.prefix ?? 'args';
  return (
    <div data-testid="args-form">
      {groups.map((g) => (
        <section key={g} data-testid={`args-group-${g}`}>
          <Typography.Title level={5} style={{ marginTop: 8 }}>
            {g}
          </Typography.Title>
          {entries
            .filter((e) => e.group === g)
            .map((e) => (
              <ArgField key={e.name} name={e.name} attrs={e.attrs} prefix={prefix} disabled={props.disabled} />
            ))}
        </section>
      ))}
    </div>
  );
}

function ArgField({ name, attrs, prefix, disabled }: { name: string; attrs: ArgAttrs; prefix: string; disabled?: boolean }) {
  const t = argType(attrs);
  const required = argRequired(attrs);
  const readOnly = disabled || attrs.editable === 0 || attrs.editable === false;
  const testId = `arg-${name}`;
  const placeholder = attrs.placeholder || undefined;
  const choice = (attrs.choice ?? []).map((c) => ({ value: c as string | number, label: String(c), title: String(c) }));
  const [min, max] = (attrs.range ?? '').split(',').map((x) => (x.trim() === '' ? undefined : Number(x)));

  let input: ReactNode;
  let valuePropName: string | undefined;
  switch (t) {
    case 'int':
    case 'float':
      input = (
        <NumberOrText
          data-testid={testId}
          disabled={readOnly}
          placeholder={placeholder}
          min={Number.isFinite(min) ? min : undefined}
          max={Number.isFinite(max) ? max : undefined}
          precision={t === 'int' ? 0 : undefined}
        />
      );
      break;
    case 'bool':
      valuePropName = 'checked';
      input = <Switch data-testid={testId} disabled={readOnly} />;
      break;
    case 'text':
      input = (
        <Input.TextArea
          data-testid={testId}
          disabled={readOnly}
          placeholder={placeholder}
          autoSize={{ minRows: 3, maxRows: 16 }}
          spellCheck={false}
          style={attrs.item_type && attrs.item_type !== 'str' ? { fontFamily: MONO } : undefined}
        />
      );
      break;
    case 'enum':
      input = <Select data-testid={testId} disabled={readOnly} placeholder={placeholder} options={choice} allowClear={!required} />;
      break;
    case 'multiple':
      input = <Select data-testid={testId} disabled={readOnly} placeholder={placeholder} options={choice} mode="multiple" allowClear />;
      break;
    case 'list':
      input = (
        <Select data-testid={testId} disabled={readOnly} placeholder={placeholder ?? 'type a value, Enter'} mode="tags" tokenSeparators={[',']} open={false} suffixIcon={null} />
      );
      break;
    case 'dict':
    case 'json':
      input = (
        <Input.TextArea
          data-testid={testId}
          disabled={readOnly}
          placeholder={placeholder ?? (t === 'dict' ? '{"key": "value"}' : 'any JSON value')}
          autoSize={{ minRows: 2, maxRows: 12 }}
          spellCheck={false}
          style={{ fontFamily: MONO }}
        />
      );
      break;
    default:
      // str, file, and anything unknown
      input = <Input data-testid={testId} disabled={readOnly} placeholder={placeholder} spellCheck={false} />;
  }

  return (
    <Form.Item
      name={[prefix, name]}
      label={attrs.label || name}
      tooltip={`${name} (${t})`}
      extra={attrs.describe || undefined}
      valuePropName={valuePropName}
      rules={[
        ...(required && !readOnly ? [{ required: true, message: `${attrs.label || name} is required` }] : []),
        ...(t === 'dict' || t === 'json' ? [{ validator: jsonValidator }] : []),
      ]}
    >
      {input}
    </Form.Item>
  );
}

async function jsonValidator(_: unknown, v: unknown) {
  if (typeof v !== 'string' || v.trim() === '' || v.includes('{{')) return;
  JSON.parse(v); // throws → the form shows the parser's message
}

/**
 * A number box, except that a value which is already text (a `{{variable}}` rendered at
 * run time) is shown and edited as text.
 */
function NumberOrText(props: {
  value?: unknown;
  onChange?: (v: unknown) => void;
  disabled?: boolean;
  placeholder?: string;
  min?: number;
  max?: number;
  precision?: number;
  'data-testid'?: string;
}) {
  const { value, onChange, ...rest } = props;
  if (typeof value === 'string') {
    return <Input {...rest} value={value} onChange={(e) => onChange?.(e.target.value)} spellCheck={false} />;
  }
  return (
    <InputNumber
      {...rest}
      value={typeof value === 'number' ? value : null}
      onChange={(v) => onChange?.(v ?? undefined)}
      style={{ width: '100%' }}
    />
  );
}
