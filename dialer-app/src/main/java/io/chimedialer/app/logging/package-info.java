/**
 * The logging layer of the runnable dialer: Logback converters that mask phone numbers in every logged message
 * and exception, registered by {@code logback.xml}.
 */
package io.chimedialer.app.logging;
