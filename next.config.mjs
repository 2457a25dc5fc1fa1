/** @type {import('next').NextConfig} */
const nextConfig = {
  // better-sqlite3 is a native addon: load it from node_modules at runtime.
  serverExternalPackages: ['better-sqlite3', 'ioredis', 'prom-client'],
  reactStrictMode: true,
  poweredByHeader: false,
  // Type-check and lint run as their own CI steps (npm run typecheck / lint).
  typescript: { ignoreBuildErrors: true },
};

export default nextConfig;
