package io.conea.benchmarks;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletResponse;
import java.io.PrintWriter;
import java.util.Collection;
import java.util.Collections;
import java.util.Locale;

/**
 * An in-memory HTTP response without a body: status and headers are real, writing a body throws so
 * that a filter that reaches it shows up at once.
 */
final class FakeServletResponse implements HttpServletResponse {

  private int status = 200;

  /** Makes the response the next one of a keep-alive connection. */
  void next() {
    status = 200;
  }

  @Override
  public void setStatus(int status) {
    this.status = status;
  }

  @Override
  public int getStatus() {
    return status;
  }

  @Override
  public void sendError(int status, String message) {
    this.status = status;
  }

  @Override
  public void sendError(int status) {
    this.status = status;
  }

  @Override
  public void sendRedirect(String location, int status, boolean clearBuffer) {
    this.status = status;
  }

  @Override
  public boolean containsHeader(String name) {
    return false;
  }

  @Override
  public String getHeader(String name) {
    return null;
  }

  @Override
  public Collection<String> getHeaders(String name) {
    return Collections.emptyList();
  }

  @Override
  public Collection<String> getHeaderNames() {
    return Collections.emptyList();
  }

  @Override
  public void setHeader(String name, String value) {}

  @Override
  public void addHeader(String name, String value) {}

  @Override
  public void setIntHeader(String name, int value) {}

  @Override
  public void addIntHeader(String name, int value) {}

  @Override
  public void setDateHeader(String name, long date) {}

  @Override
  public void addDateHeader(String name, long date) {}

  @Override
  public void addCookie(Cookie cookie) {}

  @Override
  public String encodeURL(String url) {
    return url;
  }

  @Override
  public String encodeRedirectURL(String url) {
    return url;
  }

  @Override
  public String getCharacterEncoding() {
    return "UTF-8";
  }

  @Override
  public String getContentType() {
    return null;
  }

  @Override
  public ServletOutputStream getOutputStream() {
    throw new UnsupportedOperationException("The benchmark's response has no body");
  }

  @Override
  public PrintWriter getWriter() {
    throw new UnsupportedOperationException("The benchmark's response has no body");
  }

  @Override
  public void setCharacterEncoding(String encoding) {}

  @Override
  public void setContentLength(int length) {}

  @Override
  public void setContentLengthLong(long length) {}

  @Override
  public void setContentType(String type) {}

  @Override
  public void setBufferSize(int size) {}

  @Override
  public int getBufferSize() {
    return 0;
  }

  @Override
  public void flushBuffer() {}

  @Override
  public void resetBuffer() {}

  @Override
  public boolean isCommitted() {
    return false;
  }

  @Override
  public void reset() {
    status = 200;
  }

  @Override
  public void setLocale(Locale locale) {}

  @Override
  public Locale getLocale() {
    return Locale.ROOT;
  }
}
