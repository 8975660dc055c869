// `node --conditions=react-server --import ./registerClientReferences.mjs …`: a server-components runtime in plain Node.
import { register } from 'node:module';

register('./clientReferenceHooks.mjs', import.meta.url);
