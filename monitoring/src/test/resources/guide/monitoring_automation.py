# monitoring_automation.py
import requests
import json
from datetime import datetime, timedelta

class MonitoringAutomation:
    def __init__(self, prometheus_url, alertmanager_url):
        self.prometheus_url = prometheus_url
        self.alertmanager_url = alertmanager_url
    
    def check_slo_compliance(self, slo_name, target, window_days=30):
        """SLOコンプライアンスをチェック"""
        end_time = datetime.now()
        start_time = end_time - timedelta(days=window_days)
        
        query = f'''
            avg_over_time(
                (sum(rate(http_requests_total{{status!~"5.."}}[5m])) 
                / 
                sum(rate(http_requests_total[5m])))[{window_days}d:]
            ) * 100
        '''
        
        response = requests.get(
            f"{self.prometheus_url}/api/v1/query",
            params={'query': query}
        )
        
        result = response.json()
        current_sli = float(result['data']['result'][0]['value'][1])
        
        return {
            'slo_name': slo_name,
            'target': target,
            'current': current_sli,
            'compliant': current_sli >= target,
            'margin': current_sli - target
        }
    
    def generate_capacity_report(self):
        """キャパシティレポートの生成"""
        metrics = [
            ('CPU Usage', 'avg(100 - (rate(node_cpu_seconds_total{mode="idle"}[5m]) * 100))'),
            ('Memory Usage', 'avg((1 - (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)) * 100)'),
            ('Disk Usage', 'avg((node_filesystem_size_bytes - node_filesystem_free_bytes) / node_filesystem_size_bytes * 100)')
        ]
        
        report = {}
        for name, query in metrics:
            response = requests.get(
                f"{self.prometheus_url}/api/v1/query",
                params={'query': query}
            )
            result = response.json()
            report[name] = float(result['data']['result'][0]['value'][1])
        
        return report

# 使用例
monitor = MonitoringAutomation(
    prometheus_url="http://prometheus:9090",
    alertmanager_url="http://alertmanager:9093"
)

# SLOチェック
slo_result = monitor.check_slo_compliance("API Availability", 99.9)
print(f"SLO Compliance: {slo_result}")

# キャパシティレポート
capacity = monitor.generate_capacity_report()
print(f"Capacity Report: {capacity}")
