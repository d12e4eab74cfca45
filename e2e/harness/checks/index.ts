/** Registry of every GPU-vs-CPU check the browser tests can run, by name. Add one line per kernel. */
import { matmulCheck } from './matmul';
import type { Check } from './types';

export const checks: Record<string, Check> = {
  matmul: matmulCheck,
};
