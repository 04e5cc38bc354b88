/** The package version `GET /v1` reports. Bundled into the Lambda with the handler (esbuild inlines JSON). */
import packageJson from '../../package.json' with { type: 'json' };

export const PACKAGE_VERSION: string = packageJson.version;
