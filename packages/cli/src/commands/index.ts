import type { Register } from '../program.js';
import { registerBuild } from './build/index.js';
import { registerContainer } from './container/index.js';
import { registerDockerfile } from './dockerfile/index.js';
import { registerImage } from './image/index.js';
import { registerVolume } from './volume/index.js';

/** Every command group of `lab`, in help order. Add yours here. */
export const commandGroups: Register[] = [registerImage, registerContainer, registerDockerfile, registerVolume, registerBuild];
