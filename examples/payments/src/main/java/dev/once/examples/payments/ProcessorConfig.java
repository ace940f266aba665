package dev.once.examples.payments;

import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class ProcessorConfig {

  /**
   * The fake processor, unless another {@link CardProcessor} was registered (the tests register a
   * scripted one).
   */
  @Bean
  @ConditionalOnMissingBean(CardProcessor.class)
  CardProcessor cardProcessor(@Value("${payments.processor-latency:0ms}") Duration latency) {
    return new FakeCardProcessor(latency);
  }
}
