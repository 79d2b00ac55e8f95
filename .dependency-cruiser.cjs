/**
 * The layering of ARCHITECTURE.md, checked on every `npm test`: who may import whom.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const layer = (name) => `^src/${name}/`;
const only = (from, allowed) => ({
  name: `${from}-imports-only-${allowed.join('-')}`,
  comment: `src/${from} may import only ${allowed.join(', ')}`,
  severity: 'error',
  from: { path: layer(from) },
  to: { path: '^src/', pathNot: [layer(from), ...allowed.map(layer)] },
});

module.exports = {
  forbidden: [
    only('config', ['model', 'util']),
    only('runner', ['core', 'scheduler', 'supervisor', 'adapters', 'reporters', 'history', 'record', 'model', 'util']),
    only('core', ['scheduler', 'adapters', 'model', 'util']),
    {
      name: 'core-is-pure',
      comment: 'src/core is the run reducer: no processes, files, timers or clocks (each input carries its time)',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'] },
    },
    only('scheduler', ['model', 'util']),
    only('supervisor', ['model', 'util']),
    only('adapters', ['model', 'util']),
    only('reporters', ['model', 'util']),
    {
      name: 'history-imports-only-model-util-reporter-interface',
      comment: 'src/history may import only model, util, and the Reporter interface its recorder implements',
      severity: 'error',
      from: { path: layer('history') },
      to: { path: '^src/', pathNot: [layer('history'), layer('model'), layer('util'), '^src/reporters/reporter\\.ts$'] },
    },
    {
      name: 'record-imports-only-model-util-reporter-interface',
      comment: 'src/record (the recorder and the reader) may import only model, util, and the Reporter interface its recorder implements',
      severity: 'error',
      from: { path: layer('record') },
      to: { path: '^src/', pathNot: [layer('record'), layer('model'), layer('util'), '^src/reporters/reporter\\.ts$'] },
    },
    only('util', ['model']),
    {
      name: 'model-imports-nothing',
      comment: 'src/model holds plain data types and imports nothing else',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { path: '^src/', pathNot: '^src/model/' },
    },
    {
      name: 'scheduler-is-pure',
      comment: 'src/scheduler makes decisions only: no processes, files, timers or clocks',
      severity: 'error',
      from: { path: '^src/scheduler/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'only-cli-exits',
      comment: 'nothing imports the CLI; it is the top layer',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
