import t from 'tap'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Page } from 'playwright-core'
import { buildApp, listen } from '../helper.js'
import { png } from '../fixtures.js'

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const screenshots = join(import.meta.dirname, '../../.tap/screenshots')

if (!existsSync(executablePath)) {
  // .ci/run installs Debian's chromium; on a machine without it this file plans nothing and says why.
  t.plan(0, `no Chromium at ${executablePath}: apt-get install chromium, or set CHROMIUM_PATH`)
} else {
  t.test('a person with a token can use the docs page', async (t) => {
    const { app, issuer } = await buildApp(t)
    const base = await listen(app)
    const browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync', '--disable-quic']
    })
    t.after(() => browser.close())
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } })
    const pageErrors: string[] = []
    page.on('pageerror', (error) => pageErrors.push(error.message))
    mkdirSync(screenshots, { recursive: true })

    await page.goto(`${base}/docs/`)
    await page.locator('.swagger-ui .info .title').waitFor()
    t.match(await page.locator('.swagger-ui .info .title').innerText(), /Cat Data API/)

    await page.locator('.scheme-container button.authorize').click()
    await page.locator('.modal-ux input[type=text], .modal-ux input[type=password]').first().fill(issuer.sign({ sub: 'auth0|browser' }))
    await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click()
    await page.locator('.modal-ux button.btn-done, .modal-ux .close-modal').first().click()

    const listed = await tryOperation(page, 'get_api_images')
    t.equal(listed, '200', 'GET /api/images answers 200 through the page')
    await page.screenshot({ path: join(screenshots, 'docs-list-200.png'), fullPage: true })

    const uploadBlock = page.locator('[id^="operations-images-post_api_upload"]')
    await uploadBlock.locator('.opblock-summary').click()
    await uploadBlock.locator('.try-out__btn').click()
    await uploadBlock.locator('input[type=file]').setInputFiles({ name: 'whiskers.png', mimeType: 'image/png', buffer: png(12, 9) })
    await uploadBlock.locator('.execute').click()
    const uploaded = await uploadBlock.locator('.live-responses-table tbody .response-col_status').first().innerText()
    t.match(uploaded, /^201/, 'uploading a PNG through the page answers 201')
    await page.screenshot({ path: join(screenshots, 'docs-upload-201.png'), fullPage: true })

    const stored = await app.inject({ url: '/api/images', headers: { authorization: `Bearer ${issuer.sign({ sub: 'auth0|browser' })}` } })
    t.match(stored.json(), { images: [{ originalName: 'whiskers.png', width: 12, height: 9 }] })
    t.same(pageErrors, [], 'the page raised no script errors')
  })
}

/** Expands an operation, runs "Try it out" then "Execute", and returns the status the page shows. */
async function tryOperation (page: Page, operationId: string): Promise<string> {
  const block = page.locator(`[id$="-${operationId}"]`)
  await block.locator('.opblock-summary').click()
  await block.locator('.try-out__btn').click()
  await block.locator('.execute').click()
  return (await block.locator('.live-responses-table tbody .response-col_status').first().innerText()).trim()
}
