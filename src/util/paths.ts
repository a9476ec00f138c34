import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The package root (where package.json, profiles/ and web/ live), from src/ or from dist/src/. */
export const PACKAGE_ROOT = path.resolve(here, here.split(path.sep).includes('dist') ? '../../..' : '../..');

export const fromRoot = (...parts: string[]): string => path.join(PACKAGE_ROOT, ...parts);
