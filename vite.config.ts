/**
 * Builds the web page (src/web) into dist/web, which the server serves at `/` (src/api/web.ts).
 * Everything is bundled (no CDN). After writing, prints the total size, raw and gzipped, and fails
 * the build when the gzipped total passes the budget (issue 8: < 1.5 MB gzipped).
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';
import { defineConfig } from 'vite';

const GZIP_BUDGET_BYTES = 1.5e6;
/** Text files the server sends gzipped: written beside the file as `<name>.gz` at build time. */
const PRECOMPRESS = /\.(html|js|mjs|css|json|svg|txt)$/;

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesBelow(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * Writes `<file>.gz` beside each text file (src/api/web.ts sends it to browsers that accept gzip,
 * so no request pays for compression), sums what the browser downloads and enforces the budget.
 */
function bundleBudget(): Plugin {
  let outDir = '';
  return {
    name: 'voxgate-bundle-budget',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const sizes = new Map<string, number>();
      const gz = (file: string) => sizes.get(file) ?? gzipSync(readFileSync(file), { level: 9 }).length;
      for (const file of filesBelow(outDir)) {
        if (!PRECOMPRESS.test(file) || statSync(file).size <= 1024) continue;
        const bytes = gzipSync(readFileSync(file), { level: 9 });
        writeFileSync(`${file}.gz`, bytes);
        sizes.set(file, bytes.length);
      }
      let raw = 0;
      let gzipped = 0;
      for (const file of filesBelow(outDir)) {
        if (file.endsWith('.map') || file.endsWith('.gz')) continue;
        raw += statSync(file).size;
        gzipped += gz(file);
      }
      // What a first visit downloads: the shell and the bundles it names (the rest load on demand,
      // e.g. NiiVue's zarr codecs).
      const html = join(outDir, 'index.html');
      const named = [...readFileSync(html, 'utf8').matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => join(outDir, m[1]));
      const initial = [html, ...named].reduce((sum, file) => sum + gz(file), 0);
      const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
      const line =
        `web page: ${kB(raw)} raw, ${kB(gzipped)} gzipped in all (budget ${kB(GZIP_BUDGET_BYTES)}); ` +
        `first load ${kB(initial)} gzipped; in ${relative(process.cwd(), outDir) || outDir}`;
      if (gzipped > GZIP_BUDGET_BYTES) throw new Error(`${line}: over budget`);
      console.log(line);
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('./src/web/', import.meta.url)),
  base: '/',
  publicDir: false,
  logLevel: 'info',
  build: {
    outDir: fileURLToPath(new URL('./dist/web/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    sourcemap: false,
    reportCompressedSize: true,
    // NiiVue is one large module; the budget plugin is the real check.
    chunkSizeWarningLimit: 2500,
  },
  plugins: [bundleBudget()],
});
