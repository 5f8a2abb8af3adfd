export { ExitCode, CliExit, usageError } from './exit.js';
export { createOutput, useColor, jsonReplacer, bytesToDisplay, formatBytes, type Output } from './output.js';
export { Progress } from './progress.js';
export { runProgram, describeError, cliMessage, exitCodeOf, EXIT_CODE_OF_KIND } from './run.js';
export { confirm } from './confirm.js';
export { guardInPlaceEdit, redisAnswers, type InPlaceGuardOptions } from './guard.js';
export { dataDirSource, aofSource, noteSource, otherFileHint, sourceJson, parseFrom, requireRegularInput, type SourceCliOptions, type DataDirAccepts } from './source.js';
export { errorJson, dropJson } from './reports.js';
export { dbNumbers, sortMemoryBytes } from './options.js';
