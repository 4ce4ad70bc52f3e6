import { AutoComplete, Form, Input, Radio, Select, Typography } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, type Image, type NewImageBuild } from '../api';
import FormModal, { useSubmit } from './FormModal';
import { useAuth } from '../auth';
import { CONFIG_PLACEHOLDER, defaultProject, MONO, parseBuildConfig, projectOptions } from './images';

type Method = 'dockerfile' | 'commit';

interface NewBuildForm {
  project: string;
  name: string;
  image: string;
  method: Method;
  from?: string;
  dockerfile?: string;
  commit?: string;
  config?: string;
  description?: string;
}

/**
 * "New build": POST /api/v1/image-builds, then the build's page. The config JSON is
 * checked locally only for being a JSON object; everything else is the server's job and
 * its message is shown verbatim.
 */
export default function NewBuildModal(props: {
  open: boolean;
  filterProject: string;
  onClose: () => void;
  /** Saving a running workload as an image (a task's "Save as image"): commit it, named. */
  commit?: { project: string; workload: string; name: string };
}) {
  const { me } = useAuth();
  const navigate = useNavigate();
  const [form] = Form.useForm<NewBuildForm>();
  const method = Form.useWatch('method', form) ?? 'dockerfile';
  const { error, setError, busy, run } = useSubmit();
  const [images, setImages] = useState<Image[]>([]);
  const [fromText, setFromText] = useState('');

  // The images the caller can see feed the "from" suggestions (free text is fine too).
  useEffect(() => {
    if (!props.open) return;
    let live = true;
    api
      .listImages()
      .then((r) => live && setImages(r.items ?? []))
      .catch(() => live && setImages([]));
    return () => {
      live = false;
    };
  }, [props.open]);

  const fromOptions = useMemo(() => {
    const seen = new Map<string, string[]>();
    for (const i of images) seen.set(i.ref, [...(seen.get(i.ref) ?? []), i.project]);
    const needle = fromText.trim().toLowerCase();
    return [...seen.entries()]
      .filter(([ref]) => !needle || ref.toLowerCase().includes(needle))
      .map(([ref, projects]) => ({
        value: ref,
        label: (
          <span data-testid={`from-option-${ref}`}>
            {ref} <Typography.Text type="secondary">({projects.join(', ')})</Typography.Text>
          </span>
        ),
      }));
  }, [images, fromText]);

  const submit = async () => {
    let v: NewBuildForm;
    try {
      v = await form.validateFields();
    } catch {
      return; // the form shows what is missing or malformed
    }
    const body: NewImageBuild = { project: v.project, name: v.name.trim(), image: v.image.trim() };
    if (v.method === 'commit') {
      body.commit = (v.commit ?? '').trim();
    } else {
      if (v.from && v.from.trim()) body.from = v.from.trim();
      if (v.dockerfile) body.dockerfile = v.dockerfile;
    }
    const config = parseBuildConfig(v.config);
    if ('error' in config) {
      setError(config.error); // the validator already said so; kept as a safety net
      return;
    }
    if (config.value) body.config = config.value;
    if (v.description) body.description = v.description;

    await run(async () => {
      const b = await api.createBuild(body);
      form.resetFields();
      props.onClose();
      navigate(`/images/builds/${b.id}`);
    });
  };

  return (
    <FormModal
      title="New image build"
      open={props.open}
      okText="Build"
      busy={busy}
      error={error}
      testId="new-build"
      width={760}
      onOk={() => void submit()}
      onClose={props.onClose}
      clearError={() => setError(null)}
    >
      <Form<NewBuildForm>
        form={form}
        layout="vertical"
        preserve={false}
        data-testid="new-build-form"
        initialValues={
          props.commit
            ? { project: props.commit.project, method: 'commit', commit: props.commit.workload, name: props.commit.name }
            : { project: defaultProject(me, props.filterProject), method: 'dockerfile' }
        }
      >
        <Form.Item label="Project" name="project" rules={[{ required: true, message: 'Choose a project' }]}>
          <Select data-testid="new-build-project" options={projectOptions(me)} showSearch optionFilterProp="label" />
        </Form.Item>
        <Form.Item
          label="Name"
          name="name"
          rules={[{ required: true, whitespace: true, message: 'Name the build' }]}
          extra="Lower-case letters, digits and dashes."
        >
          <Input data-testid="new-build-name" autoFocus spellCheck={false} />
        </Form.Item>
        <Form.Item
          label="Image"
          name="image"
          rules={[{ required: true, whitespace: true, message: 'Name the image to make (name:tag)' }]}
          extra="The result, as name:tag, e.g. team/sklearn-extra:1.0."
        >
          <Input data-testid="new-build-image" placeholder="team/sklearn-extra:1.0" spellCheck={false} />
        </Form.Item>
        <Form.Item label="Method" name="method">
          <Radio.Group
            data-testid="new-build-method"
            optionType="button"
            options={[
              { value: 'dockerfile', label: <span data-testid="method-dockerfile">Dockerfile</span> },
              { value: 'commit', label: <span data-testid="method-commit">Commit a running workload</span> },
            ]}
          />
        </Form.Item>
        {method === 'commit' ? (
          <Form.Item
            label="Workload"
            name="commit"
            rules={[{ required: true, whitespace: true, message: 'Name the running workload to commit' }]}
            extra="The name of a running workload of the project (e.g. a notebook); its filesystem becomes the image."
          >
            <Input data-testid="new-build-commit" spellCheck={false} />
          </Form.Item>
        ) : (
          <>
            <Form.Item
              label="From"
              name="from"
              extra="The base image: pick a registered one or type any reference. Leave empty if the Dockerfile has its own FROM line."
            >
              <AutoComplete
                data-testid="new-build-from"
                options={fromOptions}
                onSearch={setFromText}
                placeholder="quader/python:3.11"
                allowClear
              />
            </Form.Item>
            <Form.Item label="Dockerfile" name="dockerfile" extra="Instructions; a FROM line is added from “From” when the text has none.">
              <Input.TextArea
                data-testid="new-build-dockerfile"
                aria-label="Dockerfile"
                placeholder={'RUN apt-get update && apt-get install -y --no-install-recommends python3-matplotlib'}
                autoSize={{ minRows: 5, maxRows: 20 }}
                spellCheck={false}
                style={{ fontFamily: MONO }}
              />
            </Form.Item>
          </>
        )}
        <Form.Item
          label="Advanced config (JSON)"
          name="config"
          extra="resource_memory, resource_cpu and volume_mount (the project expand grammar), applied while building."
          rules={[
            {
              validator: async (_, value: string | undefined) => {
                const r = parseBuildConfig(value);
                if ('error' in r) throw new Error(r.error);
              },
            },
          ]}
        >
          <Input.TextArea
            data-testid="new-build-config"
            aria-label="Advanced config"
            placeholder={CONFIG_PLACEHOLDER}
            autoSize={{ minRows: 2, maxRows: 10 }}
            spellCheck={false}
            style={{ fontFamily: MONO }}
          />
        </Form.Item>
        <Form.Item label="Description" name="description">
          <Input.TextArea data-testid="new-build-description" autoSize={{ minRows: 1, maxRows: 4 }} />
        </Form.Item>
      </Form>
    </FormModal>
  );
}
