package dev.tailor.compare;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code report.html} in a real browser: Debian's headless Chromium, driven through Debian's chromedriver by Selenium,
 * loads the page from disk, logs no console error, draws every chart (each {@code <svg>} has shapes with a size on
 * the page), and a screenshot is written to {@code target/compare-report.png}. Without {@value #CHROMIUM} or
 * {@value #CHROMEDRIVER} it is skipped, except under {@code CI=true}, where it fails.
 */
class ReportBrowserTest {
    private static final String CHROMIUM = "/usr/bin/chromium";
    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";

    @TempDir
    Path tmp;

    private static void requireChromium() {
        if (Files.isExecutable(Path.of(CHROMIUM)) && Files.isExecutable(Path.of(CHROMEDRIVER))) {
            return;
        }
        String message = "the comparison report's browser test needs Debian's chromium and chromium-driver ("
                + CHROMIUM + " and " + CHROMEDRIVER + "): apt-get install chromium chromium-driver";
        if ("true".equals(System.getenv("CI"))) {
            fail(message);
        }
        Assumptions.abort(message);
    }

    /** Headless Chromium with a fresh profile and its console log kept; driver and browser named by path. */
    private ChromeDriver browser() throws Exception {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1200,900", "--allow-file-access-from-files",
                "--user-data-dir=" + Files.createDirectories(tmp.resolve("chromium-profile")));
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Path.of(CHROMEDRIVER).toFile())
                .usingAnyFreePort()
                .build();
        return new ChromeDriver(service, options);
    }

    @Test
    void theReportLoadsWithoutErrorsAndDrawsEveryChart() throws Exception {
        requireChromium();
        Path reports = tmp.resolve("reports");
        ReportWriter.write(SampleResults.sample(true), reports);
        ChromeDriver driver = browser();
        try {
            driver.get(reports.resolve(ReportWriter.HTML).toUri().toString());
            assertEquals("Tailor method comparison", driver.getTitle());
            List<WebElement> charts = driver.findElements(By.cssSelector("svg[data-chart]"));
            assertEquals(8, charts.size(), "every chart, the projection's included");
            JavascriptExecutor js = driver;
            for (WebElement chart : charts) {
                String name = chart.getAttribute("data-chart");
                Number drawn = (Number) js.executeScript("return Array.from(arguments[0].querySelectorAll("
                        + "'rect, circle, polyline')).filter(e => { const b = e.getBBox(); "
                        + "return b.width > 0 || b.height > 0; }).length;", chart);
                assertTrue(drawn.intValue() >= 3, name + " draws its data: " + drawn);
                assertTrue(chart.getSize().getWidth() > 300 && chart.getSize().getHeight() > 100, name + " is shown");
            }
            assertEquals(3, driver.findElements(By.cssSelector("#results tbody tr")).size());
            assertEquals(3, driver.findElements(By.cssSelector("#projection tbody tr")).size());
            List<String> errors = driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                    .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).map(LogEntry::getMessage)
                    .toList();
            assertEquals(List.of(), errors, "console errors");
            Path target = Path.of(System.getProperty("basedir", ".")).resolve("target");
            Files.createDirectories(target);
            Path shot = target.resolve("compare-report.png");
            Files.write(shot, driver.getScreenshotAs(OutputType.BYTES));
            assertTrue(Files.size(shot) > 10_000, "a screenshot with something on it");
        } finally {
            driver.quit();
        }
    }
}
