export { buildAofTool } from './aof-tool/main.js';
export { buildRdbTool } from './rdb-tool/main.js';
