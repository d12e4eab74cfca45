/** Dedicated module worker of the test harness: the same runner as the page, behind comlink. */
import * as Comlink from 'comlink';
import { makeRunner } from './runner';

Comlink.expose(makeRunner('worker'));
