/** The editor's declarations of the assistant tools (package.json) match the tool table, and the MCP configuration it copies runs the bundled CLI. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { TOOLS } from '../../../cli/tools';
import { mcpClientConfig, mcpServerEntry } from '../../../extension/lm/mcpConfig';

const root = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

describe('editor contributions for AI assistants', () => {
  it('languageModelTools declares every tool as routelens_<name>, with its description and input schema', () => {
    const declared = pkg.contributes.languageModelTools as Array<{ name: string; modelDescription: string; inputSchema: object; tags: string[] }>;
    assert.deepEqual(
      declared.map((t) => t.name),
      TOOLS.map((t) => `routelens_${t.name}`),
    );
    for (const def of TOOLS) {
      const t = declared.find((d) => d.name === `routelens_${def.name}`)!;
      assert.equal(t.modelDescription, def.description, def.name);
      const { $schema: _ignored, ...schema } = z.toJSONSchema(def.input, { io: 'input' }) as Record<string, unknown>;
      assert.deepEqual(t.inputSchema, schema, `${def.name}: regenerate the inputSchema from cli/tools`);
      assert.equal(t.tags.includes('write'), !def.readOnly, def.name);
    }
  });

  it('declares the MCP server definition provider and the Copy MCP Configuration command', () => {
    assert.deepEqual(pkg.contributes.mcpServerDefinitionProviders, [{ id: 'routelens', label: 'RouteLens' }]);
    assert.ok(pkg.contributes.commands.some((c: { command: string; title: string }) => c.command === 'routelens.copyMcpConfiguration' && c.title === 'Copy MCP Configuration'));
    assert.equal(pkg.bin.routelens, 'dist/cli/index.js');
    assert.match(readFileSync(join(root, '.npmignore'), 'utf8'), /^!\/dist\/cli\/$/m, 'the npm package carries dist/cli');
  });

  it('the copied configuration runs node on the bundled CLI with "mcp"', () => {
    const entry = mcpServerEntry('/ext');
    assert.deepEqual(entry, { command: 'node', args: [join('/ext', 'dist', 'cli', 'index.js'), 'mcp'] });
    assert.deepEqual(JSON.parse(mcpClientConfig(mcpServerEntry('/ext', ' /run/rl '))), {
      mcpServers: { routelens: { command: 'node', args: [join('/ext', 'dist', 'cli', 'index.js'), 'mcp'], env: { ROUTELENS_DISCOVERY_DIR: '/run/rl' } } },
    });
  });

  it('the MCP SDK is only in the CLI bundle, never in dist/agent or dist/extension (when built)', function () {
    const files = ['dist/agent/index.js', 'dist/extension/extension.js', 'dist/cli/index.js'].map((f) => join(root, f));
    if (!files.every((f) => existsSync(f))) this.skip();
    const has = (f: string) => readFileSync(f, 'utf8').includes('StdioServerTransport');
    assert.deepEqual(files.map(has), [false, false, true]);
  });
});
