// Prisma 7 CLI configuration (used by `prisma generate`; migrations run through
// src/db/migrate.ts, which uses the same paths and DATABASE_URL default).
import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations'
  },
  datasource: {
    url: process.env.DATABASE_URL || 'file:./data/cat-data.db'
  }
})
