package dev.tailor.serve;

import dev.tailor.HeadlessChromium;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin page ({@code GET /admin}) in a real browser: Debian's headless Chromium driven through Debian's
 * chromedriver by Selenium. It shows a registered adapter's versions and {@code prod}, rolls {@code prod} back and
 * sets a 90/10 traffic split as the API then reports, says so when it was stale (409), asks for the admin key when
 * the server has one, and logs no console errors. Without the browser or its driver the browser
 * tests are skipped, except under {@code CI=true}, where they fail ({@link HeadlessChromium}).
 */
class AdminPageTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String KEY = "admin-key-for-the-page-test";

    @TempDir
    Path tmp;

    private static void registerBoth(ServerFixture f, String key) throws Exception {
        for (Path dir : List.of(f.adapterA, f.adapterB)) {
            HttpResponse<String> r = f.send("PUT", "/v1/adapters/reg", "{\"path\": \"" + dir + "\"}", key);
            assertEquals(200, r.statusCode(), r.body());
        }
    }

    private static JsonNode adapter(ServerFixture f, String key) throws Exception {
        HttpResponse<String> r = f.send("GET", "/v1/adapters/reg", null, key);
        assertEquals(200, r.statusCode(), r.body());
        return ServerFixture.json(r.body());
    }

    private static By row(int version) {
        return By.cssSelector("section[data-adapter='reg'] tr[data-version='" + version + "']");
    }

    private static By rowAliases(int version) {
        return By.cssSelector("section[data-adapter='reg'] tr[data-version='" + version + "'] td.aliases");
    }

    private static By rowShare(int version) {
        return By.cssSelector("section[data-adapter='reg'] tr[data-version='" + version + "'] td.traffic-share");
    }

    private static final By ROLLBACK = By.cssSelector("section[data-adapter='reg'] button.rollback");
    private static final By ERROR = By.id("error");
    private static final By STATUS = By.id("status");

    /** The console's errors since the last read, but those the test expects (a substring each may contain). */
    private static List<String> consoleErrors(WebDriver driver, String expected) {
        List<LogEntry> entries = driver.manage().logs().get(LogType.BROWSER).getAll();
        return entries.stream()
                .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(LogEntry::getMessage)
                .filter(m -> expected == null || !m.contains(expected))
                .toList();
    }

    private static void screenshot(WebDriver driver, String name) throws Exception {
        Path target = Path.of(System.getProperty("basedir", ".")).resolve("target");
        Files.createDirectories(target);
        Files.write(target.resolve(name), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    }

    @Test
    void showsVersionsRollsBackSplitsTrafficAndSaysWhenItWasStale() throws Exception {
        HeadlessChromium.require("the admin page's browser test");
        try (ServerFixture f = ServerFixture.start(tmp.resolve("server"), ServerOptions.defaults(),
                tmp.resolve("state"))) {
            registerBoth(f, null);
            Path data = Files.writeString(tmp.resolve("eval.jsonl"), """
                    {"text": "Hello world, this is a small evaluation set."}
                    {"text": "Once upon a time there was a tiny model."}
                    """);
            HttpResponse<String> evaluated = f.post("/v1/adapters/reg/versions/1/evaluate",
                    "{\"data\": \"" + data + "\"}");
            assertEquals(200, evaluated.statusCode(), evaluated.body());
            double loss = ServerFixture.json(evaluated.body()).get("loss").asDouble();
            ChromeDriver driver = HeadlessChromium.start(tmp, "1400,1000");
            try {
                WebDriverWait wait = new WebDriverWait(driver, WAIT);
                driver.get(f.baseUrl() + "/admin");
                assertEquals("Tailor adapters", driver.getTitle());
                wait.until(ExpectedConditions.textToBePresentInElementLocated(rowAliases(2), "prod"));
                assertEquals("", driver.findElement(rowAliases(1)).getText(), "prod is on v2 only");
                assertTrue(driver.findElement(row(1)).getText().contains("LORA"),
                        driver.findElement(row(1)).getText());
                assertTrue(!driver.findElement(By.id("key-form")).isDisplayed(),
                        "no key field on a server without a key");
                String evaluation = driver.findElement(By.cssSelector(
                        "section[data-adapter='reg'] tr[data-version='1'] td.evaluation")).getText();
                assertTrue(evaluation.contains(String.format(Locale.ROOT, "loss %.4f", loss)), evaluation);
                assertEquals("not evaluated", driver.findElement(By.cssSelector(
                        "section[data-adapter='reg'] tr[data-version='2'] td.evaluation")).getText());

                driver.findElement(ROLLBACK).click();
                wait.until(ExpectedConditions.textToBePresentInElementLocated(rowAliases(1), "prod"));
                assertEquals("", driver.findElement(rowAliases(2)).getText());
                wait.until(ExpectedConditions.textToBePresentInElementLocated(STATUS, "prod rolled back to v1"));
                assertEquals(1, adapter(f, null).at("/aliases/prod").asInt(), "the API agrees");

                WebElement form = driver.findElement(By.cssSelector("section[data-adapter='reg'] form.traffic"));
                new Select(form.findElement(By.cssSelector("select[aria-label='first version']")))
                        .selectByValue("1");
                new Select(form.findElement(By.cssSelector("select[aria-label='second version']")))
                        .selectByValue("2");
                WebElement percent = form.findElement(By.name("percent"));
                percent.clear();
                percent.sendKeys("90");
                form.findElement(By.cssSelector("button.set-split")).click();
                wait.until(ExpectedConditions.textToBePresentInElementLocated(rowShare(1), "90%"));
                assertEquals("10%", driver.findElement(rowShare(2)).getText());
                JsonNode traffic = adapter(f, null).get("traffic");
                assertEquals(1, traffic.get("revision").asInt(), traffic.toString());
                assertEquals(2, traffic.get("versions").size(), traffic.toString());
                assertEquals(0.9, traffic.at("/versions/1").asDouble(), 1e-12, traffic.toString());
                assertEquals(0.1, traffic.at("/versions/2").asDouble(), 1e-12, traffic.toString());
                assertEquals(List.of(), consoleErrors(driver, null), "no console errors");
                screenshot(driver, "admin-page.png");

                HttpResponse<String> elsewhere = f.post("/v1/adapters/reg/aliases/prod",
                        "{\"version\": 2, \"expected_version\": 1}");
                assertEquals(200, elsewhere.statusCode(), elsewhere.body());
                driver.findElement(ROLLBACK).click();
                wait.until(ExpectedConditions.visibilityOfElementLocated(ERROR));
                String error = driver.findElement(ERROR).getText();
                assertTrue(error.contains("changed since this page showed it") && error.contains("expected_version"),
                        error);
                wait.until(ExpectedConditions.textToBePresentInElementLocated(rowAliases(2), "prod"));
                assertEquals(2, adapter(f, null).at("/aliases/prod").asInt(), "the stale rollback did nothing");
                assertEquals(List.of(), consoleErrors(driver, "409"), "only the refused request is logged");
            } finally {
                driver.quit();
            }
        }
    }

    @Test
    void asksForTheAdminKeyKeepsItInTheTabAndShowsTheApisErrors() throws Exception {
        HeadlessChromium.require("the admin page's browser test");
        Access access = new Access(KEY, List.of());
        try (ServerFixture f = ServerFixture.start(tmp.resolve("server"), ServerOptions.defaults(),
                tmp.resolve("state"), access)) {
            registerBoth(f, KEY);
            ChromeDriver driver = HeadlessChromium.start(tmp, "1400,1000");
            try {
                WebDriverWait wait = new WebDriverWait(driver, WAIT);
                driver.get(f.baseUrl() + "/admin");
                wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("key")));
                wait.until(ExpectedConditions.textToBePresentInElementLocated(ERROR, "needs the admin key"));
                assertTrue(driver.findElement(ERROR).getText().contains("no API key"), "the API's own message");
                assertEquals(List.of(), consoleErrors(driver, "401"), "only the refused request is logged");

                driver.findElement(By.id("key")).sendKeys(KEY);
                driver.findElement(By.cssSelector("#key-form button[type='submit']")).click();
                wait.until(ExpectedConditions.textToBePresentInElementLocated(rowAliases(2), "prod"));
                assertEquals(KEY, ((JavascriptExecutor) driver).executeScript(
                        "return sessionStorage.getItem('tailor.adminKey')"));

                WebElement form = driver.findElement(By.cssSelector("section[data-adapter='reg'] form.traffic"));
                WebElement percent = form.findElement(By.name("percent"));
                percent.clear();
                percent.sendKeys("150");
                form.findElement(By.cssSelector("button.set-split")).click();
                wait.until(ExpectedConditions.textToBePresentInElementLocated(ERROR, "from 0 to 100"));

                HttpResponse<String> back = f.send("POST", "/v1/adapters/reg/rollback", "{}", KEY);
                assertEquals(200, back.statusCode(), back.body());
                driver.findElement(By.id("refresh")).click();
                wait.until(ExpectedConditions.textToBePresentInElementLocated(rowAliases(1), "prod"));
                assertEquals(List.of(), consoleErrors(driver, null), "no console errors");
            } finally {
                driver.quit();
            }
        }
    }

    @Test
    void thePageIsServedWithoutAKeyWithItsOwnAssetsOnly() throws Exception {
        try (ServerFixture f = ServerFixture.start(tmp.resolve("server"), ServerOptions.defaults(),
                tmp.resolve("state"), new Access(KEY, List.of()))) {
            HttpResponse<String> page = f.get("/admin");
            assertEquals(200, page.statusCode(), page.body());
            assertEquals("text/html; charset=utf-8", page.headers().firstValue("Content-Type").orElseThrow());
            assertTrue(page.headers().firstValue("Content-Security-Policy").orElseThrow()
                    .contains("script-src 'self'"));
            assertTrue(page.body().contains("<script src=\"/admin/admin.js\""), page.body());
            assertTrue(!page.body().contains("http://") && !page.body().contains("https://"),
                    "nothing is fetched from elsewhere");
            assertEquals(page.body(), f.get("/admin/").body());
            HttpResponse<String> js = f.get("/admin/admin.js");
            assertEquals(200, js.statusCode());
            assertEquals("text/javascript; charset=utf-8", js.headers().firstValue("Content-Type").orElseThrow());
            assertTrue(js.body().contains("expected_version"), "the script sends what it displayed");
            assertEquals("text/css; charset=utf-8",
                    f.get("/admin/admin.css").headers().firstValue("Content-Type").orElseThrow());
            HttpResponse<String> missing = f.get("/admin/secrets.txt");
            assertEquals(404, missing.statusCode());
            assertTrue(missing.body().contains("no admin asset 'secrets.txt'"), missing.body());
            assertEquals(401, f.get("/v1/adapters").statusCode(), "the API still needs the key");
        }
    }
}
