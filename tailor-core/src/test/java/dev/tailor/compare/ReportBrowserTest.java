package dev.tailor.compare;

import dev.tailor.HeadlessChromium;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code report.html} in a real browser: Debian's headless Chromium, driven through Debian's chromedriver by Selenium,
 * loads the page from disk, logs no console error, draws every chart (each {@code <svg>} has shapes with a size on
 * the page), and a screenshot is written to {@code target/compare-report.png}. Without the browser or its driver it
 * is skipped, except under {@code CI=true}, where it fails ({@link HeadlessChromium}).
 */
class ReportBrowserTest {
    @TempDir
    Path tmp;

    @Test
    void theReportLoadsWithoutErrorsAndDrawsEveryChart() throws Exception {
        HeadlessChromium.require("the comparison report's browser test");
        Path reports = tmp.resolve("reports");
        ReportWriter.write(SampleResults.sample(true), reports);
        ChromeDriver driver = HeadlessChromium.start(tmp, "1200,900", "--allow-file-access-from-files");
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
